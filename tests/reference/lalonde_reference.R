# Reference output of MatchIt 4.5.1 on its own `lalonde` data (Dehejia & Wahba's NSW/PSID sample, shipped with
# MatchIt), used by tests/test_matching.py to check that units with identical covariates keep identical
# propensity scores, so that 2:1 matching breaks their ties by data order as MatchIt does.
# Four PSID controls (PSID377, PSID397, PSID422, PSID429) have identical covariates.
#
# Regenerate from the repository root (R >= 4.2 with MatchIt 4.5.1; no randomness, a re-run reproduces the files
# byte for byte):
#   Rscript tests/reference/lalonde_reference.R
# Writes, next to this script:
#   lalonde_data.csv   id, treat and the design columns of the propensity model (race as two 0/1 columns, black
#                      the reference level, as model.matrix codes it), and MatchIt's distance (glm fitted values, %.17g)
#   lalonde_pairs.csv  MatchIt's match.matrix in long form (ratio = 2, m.order = "largest", no caliper):
#                      treated_id, slot, control_id
args <- commandArgs(trailingOnly = FALSE)
f <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(f)) dirname(normalizePath(f)) else "tests/reference"
suppressPackageStartupMessages(library(MatchIt))
stopifnot(as.character(packageVersion("MatchIt")) == "4.5.1")
data("lalonde", package = "MatchIt")
m <- matchit(treat ~ age + educ + race + married + nodegree + re74 + re75, data = lalonde, method = "nearest",
             distance = "glm", ratio = 2, replace = FALSE)
x <- model.matrix(~ age + educ + race + married + nodegree + re74 + re75, data = lalonde)
out <- data.frame(id = rownames(lalonde), treat = lalonde$treat, x[, -1, drop = FALSE], check.names = TRUE)
out$distance <- sprintf("%.17g", m$distance)
write.csv(out, file.path(here, "lalonde_data.csv"), row.names = FALSE, quote = FALSE)
mm <- m$match.matrix
pairs <- do.call(rbind, lapply(seq_len(ncol(mm)), function(slot)
  data.frame(treated_id = rownames(mm), slot = slot, control_id = mm[, slot])))
write.csv(pairs, file.path(here, "lalonde_pairs.csv"), row.names = FALSE, quote = FALSE, na = "")
