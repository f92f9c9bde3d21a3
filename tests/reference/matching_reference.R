# Reference outputs of R (MatchIt 4.5.1, stats) used as fixtures by tests/test_matching.py,
# test_contingency.py, test_baseline.py, test_responses.py and test_adverse_events.py.
#
# Regenerate (from the repository root; needs R >= 4.2 with MatchIt 4.5.1 and jsonlite):
#   Rscript tests/reference/matching_reference.R
# With MATCHIT_FIXED_LIB set, the pairs are also produced with a MatchIt 4.5.1 built with a floating-point abs()
# (the CRAN build installed here computes abs() of distances in integers: MatchIt issue #163, fixed in 4.5.4):
#   mkdir -p /tmp/mi451 && git -C <clone of github.com/kosukeimai/MatchIt> archive 9762dc6 | tar -x -C /tmp/mi451
#   sed -i 's/\babs(/std::abs(/g' /tmp/mi451/src/nn_matchC_vec.cpp
#   R CMD INSTALL -l /tmp/Rlib_fixed /tmp/mi451
#   MATCHIT_FIXED_LIB=/tmp/Rlib_fixed Rscript tests/reference/matching_reference.R
# Writes, next to this script:
#   matching_data.csv      the deterministic cohort (300 patients; ps = glm fit; score_tied = ps rounded to 1/64)
#   matching_pairs_<build>.csv  MatchIt match.matrix in long form: setting, treated_id, slot, control_id;
#                          build = "integer_abs" (installed CRAN binary) and "fixed" (float abs)
#   matching_settings.csv  the settings matched (score column, scale, m.order, ratio, caliper in SD units)
#   matching_widths_<build>.csv  MatchIt's caliper in distance units (caliper * sd(distance), std.caliper = TRUE)
#   stats_reference.json   chisq.test, fisher.test, wilcox.test, t.test, binom.test, glm, quantile(type = 2)
here <- tryCatch(dirname(normalizePath(sys.frame(1)$ofile)), error = function(e) NULL)
if (is.null(here)) {
  args <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", args[grep("^--file=", args)])
  here <- if (length(f)) dirname(normalizePath(f)) else "tests/reference"
}

match_pairs <- function(tag) {
  lib <- Sys.getenv("MATCHIT_LIB")
  suppressPackageStartupMessages(if (nzchar(lib)) library(MatchIt, lib.loc = lib) else library(MatchIt))
  stopifnot(as.character(packageVersion("MatchIt", lib.loc = if (nzchar(lib)) lib else NULL)) == "4.5.1")
  d <- read.csv(file.path(here, "matching_data.csv"), stringsAsFactors = FALSE)
  settings <- read.csv(file.path(here, "matching_settings.csv"), stringsAsFactors = FALSE)
  pairs <- list(); widths <- numeric(nrow(settings))
  for (i in seq_len(nrow(settings))) {
    s <- settings[i, ]
    p <- d[[s$score]]
    dist <- if (s$scale == "logit") log(p / (1 - p)) else p
    cal <- if (is.na(s$caliper)) NULL else s$caliper
    m <- suppressWarnings(matchit(treatment ~ age, data = d, method = "nearest", distance = dist,
                                  m.order = s$order, ratio = s$ratio, caliper = cal, std.caliper = TRUE,
                                  replace = FALSE))
    widths[i] <- if (is.null(m$caliper)) NA else unname(m$caliper[1])
    mm <- m$match.matrix
    for (slot in seq_len(ncol(mm))) {
      ctrl <- mm[, slot]
      pairs[[length(pairs) + 1]] <- data.frame(setting = s$setting, treated_id = d$patient_id[as.integer(rownames(mm))],
                                               slot = slot, control_id = ifelse(is.na(ctrl), NA, d$patient_id[as.integer(ctrl)]))
    }
  }
  write.csv(do.call(rbind, pairs), file.path(here, sprintf("matching_pairs_%s.csv", tag)), row.names = FALSE, quote = FALSE, na = "")
  write.csv(data.frame(setting = settings$setting, caliper_width = sprintf("%.17g", widths)),
            file.path(here, sprintf("matching_widths_%s.csv", tag)), row.names = FALSE, quote = FALSE)
}

if (!nzchar(Sys.getenv("MATCHIT_CHILD"))) {   # main run (the child only defines match_pairs)
suppressPackageStartupMessages(library(jsonlite))
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20240701)


# ---- cohort --------------------------------------------------------------------------------------------------
n <- 300
age <- round(rnorm(n, 62, 10))                      # integer ages: many ties
sex_male <- rbinom(n, 1, 0.8)
tumor_size_cm <- round(rgamma(n, shape = 2, scale = 3), 1)
tumor_multiple <- rbinom(n, 1, 0.6)
extrahepatic_metastasis <- rbinom(n, 1, 0.5)
lymph_node_metastasis <- rbinom(n, 1, 0.3)
child_pugh_b <- rbinom(n, 1, 0.25)
lp <- -0.9 + 0.03 * (age - 62) + 0.3 * sex_male + 0.18 * (tumor_size_cm - 6) + 0.4 * tumor_multiple -
  0.5 * extrahepatic_metastasis + 0.3 * lymph_node_metastasis - 0.6 * child_pugh_b
treatment <- rbinom(n, 1, plogis(lp))
resp <- sample(c("cr", "pr", "sd", "pd", "ne"), n, replace = TRUE, prob = c(0.02, 0.1, 0.45, 0.33, 0.1))
patient_id <- sprintf("P%03d", seq_len(n))
d <- data.frame(patient_id, treatment, age, sex_male, tumor_size_cm, tumor_multiple, extrahepatic_metastasis,
                lymph_node_metastasis, child_pugh_b, best_response_recist = resp)
covs <- c("age", "sex_male", "tumor_size_cm", "tumor_multiple", "extrahepatic_metastasis",
          "lymph_node_metastasis", "child_pugh_b")
fit <- glm(reformulate(covs, "treatment"), family = binomial, data = d)
d$ps <- unname(fitted(fit))
d$score_tied <- pmin(pmax(round(d$ps * 64) / 64, 1 / 64), 63 / 64)   # dyadic: exact ties and exact equal distances
stopifnot(anyDuplicated(d$score_tied) > 0)

# adverse events (own seed, so the columns above do not depend on them)
set.seed(7)
d$ae_hypertension <- sample(0:4, n, replace = TRUE, prob = c(0.5, 0.2, 0.15, 0.13, 0.02))
d$ae_proteinuria <- sample(0:3, n, replace = TRUE, prob = c(0.7, 0.2, 0.07, 0.03))
d$ae_rash <- 0L   # no event in either group: p not computable
d$ae_led_to_discontinuation <- rbinom(n, 1, 0.1)

fmt <- function(x) sprintf("%.17g", x)
out <- d; out$ps <- fmt(out$ps); out$score_tied <- fmt(out$score_tied)
write.csv(out, file.path(here, "matching_data.csv"), row.names = FALSE, quote = FALSE)

# ---- matching settings -----------------------------------------------------------------------------------------
# distance = the score column as given (scale "score") or log(p / (1 - p)) of it (scale "logit").
settings <- data.frame(
  setting  = c("tied_largest", "tied_smallest", "tied_data", "tied_largest_ratio2", "tied_smallest_ratio2",
               "tied_caliper_score", "tied_caliper_score_ratio2", "ps_largest_caliper_logit",
               "ps_smallest_ratio2_caliper_logit", "tied_data_caliper_logit", "ps_largest_caliper_score"),
  score    = c("score_tied", "score_tied", "score_tied", "score_tied", "score_tied", "score_tied", "score_tied",
               "ps", "ps", "score_tied", "ps"),
  scale    = c("score", "score", "score", "score", "score", "score", "score", "logit", "logit", "logit", "score"),
  order    = c("largest", "smallest", "data", "largest", "smallest", "largest", "data", "largest", "smallest",
               "data", "largest"),
  ratio    = c(1, 1, 1, 2, 2, 1, 2, 1, 2, 1, 1),
  caliper  = c(NA, NA, NA, NA, NA, 0.05, 0.1, 0.2, 0.1, 0.05, 0.02),
  stringsAsFactors = FALSE)

run_pairs <- function(tag, lib) {
  # MatchIt is loaded in a child R process so that two builds of the same version can be compared
  code <- sprintf('source("%s"); match_pairs("%s")', file.path(here, "matching_reference.R"), tag)
  env <- c(sprintf("MATCHIT_LIB=%s", lib), "MATCHIT_CHILD=1")
  rc <- system2(file.path(R.home("bin"), "Rscript"), c("-e", shQuote(code)), env = env)
  stopifnot(rc == 0)
}
write.csv(settings, file.path(here, "matching_settings.csv"), row.names = FALSE, quote = FALSE, na = "")
run_pairs("integer_abs", "")
if (nzchar(Sys.getenv("MATCHIT_FIXED_LIB"))) run_pairs("fixed", Sys.getenv("MATCHIT_FIXED_LIB"))

# ---- statistics fixtures ----------------------------------------------------------------------------------------
tab <- function(a, b, c, e) matrix(c(a, c, b, e), 2)   # rows: group, columns: event yes / no
chisq_cases <- list(
  list(table = list(c(18, 22), c(44, 42))),
  list(table = list(c(2, 38), c(11, 75))),
  list(table = list(c(5, 7, 9), c(12, 3, 20))),
  list(table = list(c(10, 4, 6, 3), c(8, 9, 2, 7), c(1, 5, 5, 12))))
for (i in seq_along(chisq_cases)) {
  x <- do.call(rbind, chisq_cases[[i]]$table)
  r0 <- suppressWarnings(chisq.test(x, correct = FALSE))
  r1 <- suppressWarnings(chisq.test(x, correct = TRUE))
  chisq_cases[[i]]$statistic <- unname(r0$statistic); chisq_cases[[i]]$df <- unname(r0$parameter)
  chisq_cases[[i]]$p <- r0$p.value
  chisq_cases[[i]]$statistic_yates <- unname(r1$statistic); chisq_cases[[i]]$p_yates <- r1$p.value
}
fisher_cases <- list(
  list(table = list(c(3, 5), c(7, 1))),
  list(table = list(c(2, 38), c(11, 75))),
  list(table = list(c(0, 40), c(6, 80))),
  list(table = list(c(3, 5, 2), c(7, 1, 4))),
  list(table = list(c(1, 4), c(6, 2), c(3, 9))))
for (i in seq_along(fisher_cases)) {
  x <- do.call(rbind, fisher_cases[[i]]$table)
  r <- fisher.test(x)
  fisher_cases[[i]]$p <- r$p.value
  fisher_cases[[i]]$odds_ratio <- if (!is.null(r$estimate)) unname(r$estimate) else NA
}
g1 <- d$treatment == 1
wilcox_cases <- list()
for (v in c("tumor_size_cm", "age")) {
  r <- wilcox.test(d[[v]][g1], d[[v]][!g1], exact = FALSE, correct = TRUE)
  wilcox_cases[[length(wilcox_cases) + 1]] <- list(variable = v, method = "asymptotic",
                                                   statistic = unname(r$statistic), p = r$p.value)
}
small_x <- c(1.3, 2.9, 4.4, 5.1, 7.8, 8.2); small_y <- c(0.4, 1.1, 2.2, 3.5, 3.9, 6.6, 6.7)
r <- wilcox.test(small_x, small_y)   # R default: exact (n < 50, no ties)
wilcox_cases[[length(wilcox_cases) + 1]] <- list(variable = "small", x = small_x, y = small_y, method = "r_default",
                                                 statistic = unname(r$statistic), p = r$p.value)
ttest_cases <- list()
for (v in c("age", "tumor_size_cm")) {
  r <- t.test(d[[v]][g1], d[[v]][!g1], var.equal = TRUE)
  ttest_cases[[length(ttest_cases) + 1]] <- list(variable = v, statistic = unname(r$statistic),
                                                 df = unname(r$parameter), p = r$p.value)
}
binom_cases <- lapply(list(c(107, 126), c(18, 40), c(44, 86), c(0, 20), c(20, 20), c(5, 37), c(1, 1)), function(kn) {
  ci <- binom.test(kn[1], kn[2])$conf.int
  list(k = kn[1], n = kn[2], lower = ci[1], upper = ci[2])
})
co <- summary(fit)$coefficients
glm_ref <- list(terms = c("Intercept", covs), estimate = unname(co[, 1]), std_error = unname(co[, 2]),
                z = unname(co[, 3]), p = unname(co[, 4]))
quant_cases <- lapply(c("tumor_size_cm", "age"), function(v) {
  list(variable = v, probs = c(0.25, 0.5, 0.75),
       group1 = unname(quantile(d[[v]][g1], c(0.25, 0.5, 0.75), type = 2)),
       group0 = unname(quantile(d[[v]][!g1], c(0.25, 0.5, 0.75), type = 2)))
})
# responses: ORR / DCR by treatment group (NE in the denominator)
resp_ref <- lapply(list(orr = c("cr", "pr"), dcr = c("cr", "pr", "sd")), function(cats) {
  k <- tapply(d$best_response_recist %in% cats, d$treatment, sum); nn <- tapply(d$treatment, d$treatment, length)
  x <- cbind(k, nn - k)[c("1", "0"), ]
  list(k1 = unname(k["1"]), n1 = unname(nn["1"]), k0 = unname(k["0"]), n0 = unname(nn["0"]),
       ci1 = binom.test(k["1"], nn["1"])$conf.int[1:2], ci0 = binom.test(k["0"], nn["0"])$conf.int[1:2],
       p_chisq = chisq.test(x, correct = FALSE)$p.value, p_fisher = fisher.test(x)$p.value)
})
# adverse events: any grade / grade 3-4 per term and overall
ae_cols <- c("ae_hypertension", "ae_proteinuria", "ae_rash")
ae_flag <- list(
  ae_any = apply(d[ae_cols] >= 1, 1, any),
  ae_grade_3_4 = apply(d[ae_cols] >= 3 & d[ae_cols] <= 4, 1, any),
  ae_led_to_discontinuation = d$ae_led_to_discontinuation == 1,
  ae_hypertension.any_grade = d$ae_hypertension >= 1, ae_hypertension.grade_3_4 = d$ae_hypertension %in% 3:4,
  ae_proteinuria.any_grade = d$ae_proteinuria >= 1, ae_proteinuria.grade_3_4 = d$ae_proteinuria %in% 3:4)
ae_ref <- lapply(ae_flag, function(f) {
  x <- table(factor(d$treatment, levels = c(1, 0)), factor(f, levels = c(TRUE, FALSE)))
  list(k1 = x[1, 1], k0 = x[2, 1], p_chisq = suppressWarnings(chisq.test(x, correct = FALSE)$p.value),
       p_fisher = fisher.test(x)$p.value)
})
# baseline: chi-square of binary and 5-level variables, SMDs by their formulas (Yang & Dalton with MASS::ginv)
smd_cat <- function(x, g, levs) {
  p1 <- sapply(levs, function(l) mean(x[g == 1] == l))[-1]; p0 <- sapply(levs, function(l) mean(x[g == 0] == l))[-1]
  S <- (diag(p1, length(p1)) - outer(p1, p1) + diag(p0, length(p0)) - outer(p0, p0)) / 2
  sqrt(drop(t(p1 - p0) %*% MASS::ginv(S) %*% (p1 - p0)))
}
smd_cont <- function(x, g) abs(mean(x[g == 1]) - mean(x[g == 0])) / sqrt((var(x[g == 1]) + var(x[g == 0])) / 2)
base_ref <- list(
  sex_male = list(p = chisq.test(table(d$treatment, d$sex_male), correct = FALSE)$p.value,
                  smd = smd_cat(d$sex_male, d$treatment, c(0, 1))),
  best_response_recist = list(p = chisq.test(table(d$treatment, d$best_response_recist), correct = FALSE)$p.value,
                              smd = smd_cat(d$best_response_recist, d$treatment, sort(unique(d$best_response_recist)))),
  age = list(smd = smd_cont(d$age, d$treatment), mean1 = mean(d$age[g1]), sd1 = sd(d$age[g1])),
  tumor_size_cm = list(smd = smd_cont(d$tumor_size_cm, d$treatment)))
ref <- list(generated_by = R.version.string, matchit = as.character(packageVersion("MatchIt")),
            chisq = chisq_cases, fisher = fisher_cases, wilcox = wilcox_cases, ttest = ttest_cases,
            binom = binom_cases, glm = glm_ref, quantile_type2 = quant_cases,
            responses = resp_ref, adverse_events = ae_ref, baseline = base_ref)
writeLines(toJSON(ref, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "stats_reference.json"))
cat("written to", here, "\n")
}
