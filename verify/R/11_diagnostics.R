# Beyond the article: checking the models, and what the matched estimates mean.
#
# The article's Cox models ("a multivariable Cox proportional hazards regression model") assume proportional
# hazards; this chapter tests it (cox.zph, Grambsch-Therneau, Kaplan-Meier transform of time, per term and
# GLOBAL) for the regimen-only model of each endpoint and cohort, each univariable model of Table 4's candidates
# and the multivariable model. It then reports a summary that needs no proportional hazards, the restricted mean
# survival time (RMST: the area under the Kaplan-Meier curve up to 6 and 12 months, SE as print(survfit,
# rmean = tau), Wald CI; the difference's SE from the two independent groups, as survRM2's rmst2), E-values of the
# matched hazard ratios (VanderWeele & Ding 2017; HR turned into a risk ratio for a common outcome,
# (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)), as EValue's evalues.HR(rare = FALSE)) and the size of a 1:1 trial
# detecting them (Schoenfeld 1983: events (z_{1-alpha/2} + z_power)^2 / (0.25 log(HR)^2), patients = events / the
# matched cohort's event proportion, both rounded up).

zph_test <- function(d, ep, covs) {
  vars <- c(ENDPOINTS[[ep]], covs)
  d <- d[complete.cases(d[, vars, drop = FALSE]), , drop = FALSE]
  f <- as.formula(sprintf("Surv(%s, %s) ~ %s", ENDPOINTS[[ep]][1], ENDPOINTS[[ep]][2], paste(covs, collapse = " + ")))
  fit <- tryCatch(suppressWarnings(coxph(f, data = d, ties = setting("cox.ties", "efron"))), error = function(e) NULL)
  if (is.null(fit) || any(!is.finite(coef(fit))) || any(abs(coef(fit)) > 20)) return(NULL)
  tryCatch(cox.zph(fit, transform = "km")$table, error = function(e) NULL)
}

rmst_one <- function(time, event, tau) {
  fit <- survfit(Surv(time, event) ~ 1)
  if (tau > max(time) && min(fit$surv) > 0) return(c(NA, NA))
  tab <- summary(fit, rmean = tau)$table
  c(tab[["rmean"]], tab[["se(rmean)"]])
}

section_diagnostics <- function(a) {
  a$control_group <- 1 - a$treatment
  alpha <- 0.05
  tested <- 0; flagged <- 0
  count <- function(tab) if (!is.null(tab)) { tested <<- tested + 1; flagged <<- flagged + (tab[nrow(tab), "p"] < alpha) }
  uni <- setting_list("diagnostics.univariable")
  uni_short <- setNames(setting_list("diagnostics.univariable_id_names"), uni)
  short <- setNames(setting_list("cox.id_names"), setting_list("cox.candidates"))
  threshold <- as.numeric(setting("cox.selection_p", "0.05"))
  for (ep in names(ENDPOINTS)) {
    for (suffix in cohort_suffixes()) {
      tab <- if (setting("diagnostics.regimen_models", "true") == "true")
        zph_test(cohort(a, suffix), ep, "control_group") else NULL
      count(tab)
      put(sprintf("sensitivity.zph_%s_group_p%s", ep, suffix), if (is.null(tab)) NA else tab[nrow(tab), "p"])
      put(sprintf("sensitivity.zph_%s_group_chisq%s", ep, suffix), if (is.null(tab)) NA else tab[nrow(tab), "chisq"])
    }
    for (cov in uni) {
      tab <- zph_test(a, ep, cov)
      count(tab)
      put(sprintf("sensitivity.zph_%s_uni_%s_p", ep, uni_short[[cov]]), if (is.null(tab)) NA else tab[nrow(tab), "p"])
      put(sprintf("sensitivity.zph_%s_uni_%s_chisq", ep, uni_short[[cov]]), if (is.null(tab)) NA else tab[nrow(tab), "chisq"])
    }
    # the multivariable model of Table 4 (06_predictors.R's selection, refitted here)
    candidates <- setting_list("cox.candidates")
    p_uni <- sapply(candidates, function(cov) cox_term(a, ep, cov)$est[cov, "p"])
    selected <- candidates[(!is.na(p_uni) & p_uni < threshold) | candidates %in% setting_list("cox.forced")]
    tab <- if (setting("diagnostics.multivariable", "true") == "true" && length(selected)) zph_test(a, ep, selected)
    count(tab)
    for (stat in c("p", "chisq", "df"))
      put(sprintf("sensitivity.zph_%s_global_%s", ep, stat), if (is.null(tab)) NA else tab[nrow(tab), stat])
    if (!is.null(tab)) for (cov in selected) put(sprintf("sensitivity.zph_%s_%s_p", ep, short[[cov]]), tab[cov, "p"])
  }
  put("sensitivity.zph_models_n", tested)
  put("sensitivity.zph_models_flagged", flagged)

  z <- qnorm(0.975)
  for (suffix in cohort_suffixes()) {
    d <- cohort(a, suffix)
    for (ep in names(ENDPOINTS)) {
      time <- d[[ENDPOINTS[[ep]][1]]]; event <- d[[ENDPOINTS[[ep]][2]]]
      for (tau in c(6, 12)) {
        est <- lapply(ROLES, function(role) rmst_one(time[d$treatment == role], event[d$treatment == role], tau))
        # a horizon beyond the follow-up of either group is not estimable for both (their difference needs both)
        if (anyNA(unlist(est))) est <- lapply(est, function(r) c(NA_real_, NA_real_))
        for (group in names(ROLES)) {
          r <- est[[group]]
          key <- sprintf("sensitivity.rmst_%s_%d_%s", ep, tau, group)
          put(paste0(key, suffix), r[1]); put(paste0(key, "_se", suffix), r[2])
          put(paste0(key, "_lo", suffix), r[1] - z * r[2]); put(paste0(key, "_hi", suffix), r[1] + z * r[2])
        }
        diff <- est$treatment[1] - est$control[1]
        se <- sqrt(est$treatment[2]^2 + est$control[2]^2)
        key <- sprintf("sensitivity.rmst_%s_%d_diff", ep, tau)
        put(paste0(key, suffix), diff)
        put(paste0(key, "_lo", suffix), diff - z * se); put(paste0(key, "_hi", suffix), diff + z * se)
        put(paste0(key, "_p", suffix), 2 * pnorm(-abs(diff / se)))
      }
    }
  }

  to_rr <- function(hr) (1 - 0.5^sqrt(hr)) / (1 - 0.5^sqrt(1 / hr))
  evalue <- function(rr) { rr <- ifelse(rr < 1, 1 / rr, rr); rr + sqrt(rr * (rr - 1)) }
  m <- cohort(a, "_matched")
  for (ep in names(ENDPOINTS)) {
    hr <- group_hr(m, ep, TRUE)
    rr <- to_rr(hr[1:3])
    put(sprintf("sensitivity.evalue_%s_hr", ep), evalue(rr[1]))
    put(sprintf("sensitivity.evalue_%s_ci", ep),
        if (is.na(rr[1])) NA else if (rr[2] <= 1 && 1 <= rr[3]) 1 else evalue(if (rr[1] > 1) rr[2] else rr[3]))
    put(sprintf("sensitivity.evalue_%s_rr", ep), rr[1])
    share <- mean(m[[ENDPOINTS[[ep]][2]]])
    put(sprintf("sensitivity.trial_event_pct_%s", ep), 100 * share)
    for (power in c(0.8, 0.9)) {
      events <- if (is.na(hr[1]) || abs(log(hr[1])) < 1e-9) NA else
        ceiling((qnorm(1 - alpha / 2) + qnorm(power))^2 / (0.25 * log(hr[1])^2) - 1e-9)
      put(sprintf("sensitivity.trial_events_%s_%d", ep, round(100 * power)), events)
      put(sprintf("sensitivity.trial_patients_%s_%d", ep, round(100 * power)),
          if (is.na(events) || share <= 0) NA else ceiling(events / share - 1e-9))
    }
  }
}
