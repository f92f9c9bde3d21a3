# Beyond the article: propensity-score weighting instead of matching.
#
# The article "reduced [selection bias and confounders] by 1:1 propensity score (PS) matching". Weighting keeps
# every patient: inverse-probability-of-treatment weights (1/e for the treated, 1/(1-e) for controls: the average
# treatment effect) and overlap weights (1-e and e: the effect where either drug is a plausible choice).
#
# Here: e is the propensity score of 03_matching.R; balance as absolute standardised mean differences with
# weighted means and variances (Austin & Stuart 2015; binary covariates by their weighted proportions); effective
# sample size (sum w)^2 / sum w^2 per group; the case-weighted Cox model with the robust variance
# (coxph(weights = w, robust = TRUE)).

weighted_smd <- function(x, treat, w) {
  keep <- !is.na(x); x <- x[keep]; treat <- treat[keep]; w <- w[keep]
  moments <- function(x, w) {
    m <- sum(w * x) / sum(w)
    denom <- sum(w)^2 - sum(w^2)
    c(m, if (denom > 0) sum(w) / denom * sum(w * (x - m)^2) else NA)
  }
  a <- moments(x[treat == 1], w[treat == 1]); b <- moments(x[treat == 0], w[treat == 0])
  if (all(x %in% c(0, 1))) { a[2] <- a[1] * (1 - a[1]); b[2] <- b[1] * (1 - b[1]) }
  denom <- sqrt((a[2] + b[2]) / 2)
  if (is.na(denom)) return(NA_real_)
  if (denom > 0) abs(a[1] - b[1]) / denom else if (abs(a[1] - b[1]) < 1e-12) 0 else Inf
}

section_weighting <- function(a) {
  e <- MATCHING$ps
  t <- a$treatment
  weights <- list(unweighted = rep(1, nrow(a)), iptw = ifelse(t == 1, 1 / e, 1 / (1 - e)),
                  overlap = ifelse(t == 1, 1 - e, e))
  covs <- setting_list("matching.covariates")
  for (name in names(weights)) {
    smd <- sapply(covs, function(cov) weighted_smd(a[[cov]], t, weights[[name]]))
    put(sprintf("sensitivity.%s_smd_max", name), max(smd))
    for (cov in covs) put(sprintf("sensitivity.%s_smd_%s", name, cov), smd[[cov]])
  }
  a$control_group <- 1 - t
  for (name in c("iptw", "overlap")) {
    w <- weights[[name]]
    for (group in names(ROLES)) {
      g <- t == ROLES[[group]]
      put(sprintf("sensitivity.%s_ess_%s", name, group), sum(w[g])^2 / sum(w[g]^2))
    }
    put(sprintf("sensitivity.%s_weight_max", name), max(w))
    a$w <- w
    for (ep in names(ENDPOINTS)) {
      f <- as.formula(sprintf("Surv(%s, %s) ~ control_group", ENDPOINTS[[ep]][1], ENDPOINTS[[ep]][2]))
      fit <- tryCatch(suppressWarnings(coxph(f, data = a, weights = w, robust = TRUE,
                                             ties = setting("cox.ties", "efron"))), error = function(e) NULL)
      hr <- rep(NA_real_, 4)
      if (!is.null(fit) && is.finite(coef(fit))) {
        b <- coef(fit); se <- sqrt(vcov(fit)[1, 1]); z <- qnorm(0.975)
        hr <- c(exp(b), exp(b - z * se), exp(b + z * se), 2 * pnorm(-abs(b / se)))
      }
      for (k in 1:4) put(sprintf("sensitivity.%s_%s_%s", name, ep, c("hr", "hr_lo", "hr_hi", "hr_p")[k]), hr[k])
    }
  }
}
