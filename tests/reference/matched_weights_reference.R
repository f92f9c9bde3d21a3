# Reference values for the weights of k:1 matched sets and the weighted, set-clustered Cox model
# (tests/test_matching.py::test_matched_set_weights_match_MatchIt, ::test_weighted_clustered_cox_matches_R_coxph).
# Data: tests/reference/matching_data.csv (the deterministic cohort of matching_reference.R) with a seeded survival
# outcome added here (exponential times rounded to 0.1 month for ties, about a quarter censored).
# For three 1:2 settings of matching_settings.csv (two with a caliper, so that some treated patients keep fewer than
# two controls), MatchIt 4.5.1's match.data() weights and subclasses, and
# coxph(Surv(time, status) ~ control, weights = weights, cluster = subclass, ties = "efron"): coef, robust and naive
# SE. Writes matched_weights_reference.csv (one row per matched patient) and matched_weights_cox.csv.
# Run from the repository root: Rscript tests/reference/matched_weights_reference.R   (R 4.2, MatchIt 4.5.1, survival 3.x)
suppressPackageStartupMessages({library(MatchIt); library(survival)})
options(digits = 17)
d <- read.csv("tests/reference/matching_data.csv", stringsAsFactors = FALSE)
settings <- read.csv("tests/reference/matching_settings.csv", stringsAsFactors = FALSE)
set.seed(20241130)
d$time <- pmax(0.1, round(rexp(nrow(d), rate = exp(-2.3 + 0.4 * d$treatment + 0.02 * (d$age - 60))), 1))
d$status <- rbinom(nrow(d), 1, 0.75)
d$control <- 1 - d$treatment
rows <- list(); cox <- list()
for (name in c("tied_largest_ratio2", "tied_caliper_score_ratio2", "ps_smallest_ratio2_caliper_logit")) {
  s <- settings[settings$setting == name, ]
  p <- d[[s$score]]
  dist <- if (s$scale == "logit") log(p / (1 - p)) else p
  cal <- if (is.na(s$caliper)) NULL else s$caliper
  m <- suppressWarnings(matchit(treatment ~ age, data = d, method = "nearest", distance = dist, m.order = s$order,
                                ratio = s$ratio, caliper = cal, std.caliper = TRUE, replace = FALSE))
  md <- match.data(m)
  rows[[length(rows) + 1]] <- data.frame(setting = name, patient_id = md$patient_id, treatment = md$treatment,
                                         subclass = as.integer(as.character(md$subclass)), weights = md$weights,
                                         time = md$time, status = md$status)
  fit <- coxph(Surv(time, status) ~ control, data = md, weights = weights, cluster = subclass, ties = "efron")
  cox[[length(cox) + 1]] <- data.frame(setting = name, coef = unname(coef(fit)), robust_se = sqrt(fit$var[1, 1]),
                                       naive_se = sqrt(fit$naive.var[1, 1]))
}
write.csv(do.call(rbind, rows), "tests/reference/matched_weights_reference.csv", row.names = FALSE)
write.csv(do.call(rbind, cox), "tests/reference/matched_weights_cox.csv", row.names = FALSE)
