# Beyond the article: how stable are the matched estimates? (the bootstrap)
#
# The article reports the PS-matched hazard ratios with model-based 95% CIs, which ignore that the matched sets
# themselves depend on the data. Each bootstrap replicate resamples the enrolled patients within group, re-fits the
# propensity model, matches again as configured and re-estimates the matched hazard ratios (Cox, control vs
# treatment, unweighted) and the differences of Kaplan-Meier medians (treatment minus control). A replicate whose
# propensity model separates the groups, whose matching leaves fewer than two patients in a group, or whose hazard
# ratio has no finite estimate is counted as failed. Percentile 95% intervals (quantile type 7) over the analysed
# replicates.
#
# The resamples are the book's own: numpy draws them (seeded per replicate), `hcc-study verify` writes them into
# a file (one replicate a line: the 1-based rows of analysis.csv drawn), and everything after the draw is done here.

boot_estimates <- function(m) {
  m$control_group <- 1 - m$treatment
  out <- numeric(0)
  for (ep in names(ENDPOINTS)) {
    f <- as.formula(sprintf("Surv(%s, %s) ~ control_group", ENDPOINTS[[ep]][1], ENDPOINTS[[ep]][2]))
    out[[paste0(ep, "_hr")]] <- cox_first(f, m)[["hr"]]
    med <- sapply(ROLES, function(role) {
      g <- m$treatment == role
      km_quartiles(m[[ENDPOINTS[[ep]][1]]][g], m[[ENDPOINTS[[ep]][2]]][g])$est[2]
    })
    out[[paste0(ep, "_median_diff")]] <- med[["treatment"]] - med[["control"]]
  }
  out
}

boot_replicate <- function(s) {
  covs <- setting_list("matching.covariates")
  if (any(sapply(covs, function(cov) length(unique(s[[cov]])) < 2))) return(NULL)   # a constant covariate
  M <- tryCatch(match_study(s), error = function(e) NULL)
  if (is.null(M) || M$separated) return(NULL)
  m <- s[!is.na(M$set), , drop = FALSE]
  if (sum(m$treatment == 1) < 2 || sum(m$treatment == 0) < 2) return(NULL)
  est <- boot_estimates(m)
  if (is.na(est[["os_hr"]]) || is.na(est[["pfs_hr"]])) return(NULL)
  c(pairs = length(unique(M$set[!is.na(M$set)])), est)
}

section_bootstrap <- function(a) {
  path <- setting("bootstrap.resamples", "")
  if (!nzchar(path)) return(invisible())
  lines <- readLines(path)
  rows <- lapply(lines, function(line) {
    sample <- a[as.integer(strsplit(line, " ", fixed = TRUE)[[1]]), , drop = FALSE]
    boot_replicate(sample)
  })
  ok <- do.call(rbind, rows[!vapply(rows, is.null, TRUE)])
  put("sensitivity.boot_replicates", length(lines))
  put("sensitivity.boot_failed", length(lines) - NROW(ok))
  put("sensitivity.boot_used", NROW(ok))
  put("sensitivity.boot_pairs_median", if (NROW(ok)) median(ok[, "pairs"]) else NA)
  interval <- function(x) { x <- x[is.finite(x)]; if (length(x) < 2) c(NA, NA) else unname(quantile(x, c(0.025, 0.975), type = 7)) }
  m <- cohort(a, "_matched")
  point <- boot_estimates(m)
  for (ep in names(ENDPOINTS)) {
    hr <- ok[, paste0(ep, "_hr")]; hr <- hr[is.finite(hr)]
    ci <- interval(hr)
    f <- as.formula(sprintf("Surv(%s, %s) ~ control_group", ENDPOINTS[[ep]][1], ENDPOINTS[[ep]][2]))
    wald <- cox_first(f, transform(m, control_group = 1 - treatment))
    put(sprintf("sensitivity.boot_%s_hr", ep), point[[paste0(ep, "_hr")]])
    put(sprintf("sensitivity.boot_%s_hr_lo", ep), ci[1]); put(sprintf("sensitivity.boot_%s_hr_hi", ep), ci[2])
    put(sprintf("sensitivity.boot_%s_hr_wald_lo", ep), wald[["lo"]])
    put(sprintf("sensitivity.boot_%s_hr_wald_hi", ep), wald[["hi"]])
    put(sprintf("sensitivity.boot_%s_hr_width_ratio", ep), log(ci[2] / ci[1]) / log(wald[["hi"]] / wald[["lo"]]))
    put(sprintf("sensitivity.boot_%s_hr_median", ep), if (length(hr)) median(hr) else NA)
    put(sprintf("sensitivity.boot_%s_hr_above_1", ep), if (length(hr)) 100 * mean(hr > 1) else NA)
    diff <- ok[, paste0(ep, "_median_diff")]
    ci <- interval(diff)
    put(sprintf("sensitivity.boot_%s_median_diff", ep), point[[paste0(ep, "_median_diff")]])
    put(sprintf("sensitivity.boot_%s_median_diff_lo", ep), ci[1])
    put(sprintf("sensitivity.boot_%s_median_diff_hi", ep), ci[2])
    put(sprintf("sensitivity.boot_%s_median_diff_estimable", ep), sum(is.finite(diff)))
  }
}
