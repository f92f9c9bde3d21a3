# Section 6 of the article: predictors of survival (Table 4).
#
# Article: "Factors independently predictive of OS and PFS were assessed using a multivariable Cox proportional
# hazards regression model." "Univariable Cox regression analyses showed ECOG performance score 2, Child-Pugh class
# B, tumor size >=10 cm, PIVKA-II concentration >=1,000 mAU/mL, sorafenib treatment, and number of previous ATE+BEV
# treatment cycles (<3) as predictors for death. Subsequent multivariable analyses revealed that Child-Pugh class
# B (adjusted hazard ratio [aHR]=2.472; 95% confidence interval [CI], 1.433-4.266; P=0.001) [...]"
#
# Here: every configured candidate (cox.candidates) in a univariable Cox model (complete cases, Efron ties unless
# configured, Wald CI and P); those with P below cox.selection_p, and the forced ones (cox.forced), together in the
# multivariable model (complete cases of its covariates). control_group = 1 for the control regimen.

cox_term <- function(d, ep, covs) {
  vars <- c(ENDPOINTS[[ep]], covs)
  d <- d[complete.cases(d[, vars, drop = FALSE]), , drop = FALSE]
  f <- as.formula(sprintf("Surv(%s, %s) ~ %s", ENDPOINTS[[ep]][1], ENDPOINTS[[ep]][2], paste(covs, collapse = " + ")))
  fit <- tryCatch(suppressWarnings(coxph(f, data = d, ties = setting("cox.ties", "efron"))), error = function(e) NULL)
  res <- matrix(NA_real_, nrow = length(covs), ncol = 4, dimnames = list(covs, c("hr", "lo", "hi", "p")))
  if (!is.null(fit)) {
    b <- coef(fit); se <- sqrt(diag(vcov(fit)))
    ok <- is.finite(b) & abs(b) < 20
    z <- qnorm(0.975)
    res[ok, ] <- cbind(exp(b), exp(b - z * se), exp(b + z * se), 2 * pnorm(-abs(b / se)))[ok, ]
  }
  list(est = res, n = nrow(d), events = sum(d[[ENDPOINTS[[ep]][2]]]))
}

section_predictors <- function(a) {
  a$control_group <- 1 - a$treatment
  candidates <- setting_list("cox.candidates")
  forced <- setting_list("cox.forced")
  short <- setNames(setting_list("cox.id_names"), candidates)
  threshold <- as.numeric(setting("cox.selection_p", "0.05"))
  for (ep in names(ENDPOINTS)) {
    p_uni <- setNames(numeric(length(candidates)), candidates)
    for (cov in candidates) {
      m <- cox_term(a, ep, cov)
      p_uni[cov] <- m$est[cov, "p"]
      for (stat in c("hr", "lo", "hi", "p")) put(sprintf("cox.%s_uni_%s_%s", ep, short[[cov]], stat), m$est[cov, stat])
      put(sprintf("cox.%s_uni_%s_n", ep, short[[cov]]), m$n)
      put(sprintf("cox.%s_uni_%s_events", ep, short[[cov]]), m$events)
    }
    selected <- candidates[(!is.na(p_uni) & p_uni < threshold) | candidates %in% forced]
    if (!length(selected)) next
    m <- cox_term(a, ep, selected)
    for (cov in selected) {
      for (stat in c("hr", "lo", "hi", "p")) put(sprintf("cox.%s_%s_%s", ep, short[[cov]], stat), m$est[cov, stat])
      put(sprintf("cox.%s_%s_n", ep, short[[cov]]), m$n)
      put(sprintf("cox.%s_%s_events", ep, short[[cov]]), m$events)
    }
  }
}
