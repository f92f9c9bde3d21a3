# Reference values for propensity-score weighting (tests/test_weighting.py).
# Data: tests/reference/weighting_data.csv, the analysis columns of the bundled synthetic cohort (treatment 0/1,
# its propensity score `ps` from the study's logistic model, age, OS and PFS; control = 1 - treatment).
# Weights are computed here from `ps`: IPTW 1/ps (treated), 1/(1-ps) (control); stabilised IPTW times the marginal
# proportion of the group received; overlap 1-ps (treated), ps (control).
# Outputs: weighting_cox_reference.csv (coxph(weights =, robust = TRUE), Efron ties: coef, robust SE, naive SE,
# loglik) and weighting_km_reference.csv (weighted survfit survival at a few times).
# Run from the repository root: Rscript tests/reference/weighting_reference.R   (R 4.2, survival 3.x)
suppressPackageStartupMessages(library(survival))
options(digits = 17)
d <- read.csv("tests/reference/weighting_data.csv")
p1 <- mean(d$treatment)
d$w_iptw <- ifelse(d$treatment == 1, 1 / d$ps, 1 / (1 - d$ps))
d$w_iptw_stab <- d$w_iptw * ifelse(d$treatment == 1, p1, 1 - p1)
d$w_overlap <- ifelse(d$treatment == 1, 1 - d$ps, d$ps)

rows <- list()
for (endpoint in c("os", "pfs")) {
  d$time <- d[[paste0(endpoint, "_months")]]
  d$status <- d[[paste0(endpoint, "_event")]]
  for (wname in c("iptw", "iptw_stab", "overlap")) {
    d$w <- d[[paste0("w_", wname)]]
    for (model in c("control", "control+age")) {
      f <- as.formula(paste("Surv(time, status) ~", model))
      fit <- suppressWarnings(coxph(f, data = d, weights = w, robust = TRUE, ties = "efron"))
      se_robust <- sqrt(diag(fit$var))
      se_naive <- sqrt(diag(fit$naive.var))
      for (k in seq_along(coef(fit))) {
        rows[[length(rows) + 1]] <- data.frame(endpoint = endpoint, weights = wname, model = model,
                                               term = names(coef(fit))[k], coef = unname(coef(fit)[k]),
                                               robust_se = unname(se_robust[k]), naive_se = unname(se_naive[k]),
                                               loglik = fit$loglik[2])
      }
    }
  }
}
write.csv(do.call(rbind, rows), "tests/reference/weighting_cox_reference.csv", row.names = FALSE)

times <- c(1, 3, 6, 12, 18)
km <- list()
for (endpoint in c("os", "pfs")) {
  d$time <- d[[paste0(endpoint, "_months")]]
  d$status <- d[[paste0(endpoint, "_event")]]
  for (wname in c("iptw", "overlap")) {
    d$w <- d[[paste0("w_", wname)]]
    fit <- survfit(Surv(time, status) ~ treatment, data = d, weights = w)
    s <- summary(fit, times = times, extend = TRUE)
    km[[length(km) + 1]] <- data.frame(endpoint = endpoint, weights = wname,
                                       treatment = sub("treatment=", "", as.character(s$strata)),
                                       time = s$time, survival = s$surv)
  }
}
write.csv(do.call(rbind, km), "tests/reference/weighting_km_reference.csv", row.names = FALSE)

# Whole weighted Kaplan-Meier curves with R's default interval for weighted data (infinitesimal-jackknife variance,
# conf.type "log"): weighting_km_ci_reference.csv. Small hand cases with ties of an event and a censoring, the
# second ending with every patient at risk dying (lower and upper NA there).
ci <- list()
for (endpoint in c("os", "pfs")) {
  d$time <- d[[paste0(endpoint, "_months")]]
  d$status <- d[[paste0(endpoint, "_event")]]
  for (wname in c("iptw", "overlap")) {
    d$w <- d[[paste0("w_", wname)]]
    for (arm in c(0, 1)) {
      fit <- survfit(Surv(time, status) ~ 1, data = d[d$treatment == arm, ], weights = w)
      ci[[length(ci) + 1]] <- data.frame(case = paste(endpoint, wname, arm, sep = "_"), time = fit$time,
                                         survival = fit$surv, lower = fit$lower, upper = fit$upper)
    }
  }
}
# The third has integer weights, which R reads as counts of patients (Greenwood's variance, not the robust one).
hand <- list(list(time = c(1, 2, 2, 3, 4, 4), status = c(1, 0, 1, 1, 0, 1), w = c(0.5, 2, 1.5, 1, 3, 0.7)),
             list(time = c(1, 2, 2, 3, 4), status = c(1, 0, 1, 1, 1), w = c(0.5, 2, 1.5, 1, 3)),
             list(time = c(1, 2, 2, 3, 4, 4, 5, 6), status = c(1, 0, 1, 1, 0, 1, 1, 0), w = c(1, 2, 1, 1, 3, 1, 1, 2)))
for (k in seq_along(hand)) {
  h <- hand[[k]]
  fit <- survfit(Surv(h$time, h$status) ~ 1, weights = h$w)
  ci[[length(ci) + 1]] <- data.frame(case = paste0("hand", k), time = fit$time, survival = fit$surv,
                                     lower = fit$lower, upper = fit$upper)
}
write.csv(do.call(rbind, ci), "tests/reference/weighting_km_ci_reference.csv", row.names = FALSE)
