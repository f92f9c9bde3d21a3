# Beyond the article: analyses of the PS-matched cohort that respect its pairing.
#
# The article compares the matched groups with tests of independent samples ("differences between treatment groups
# were assessed by log-rank tests"; "a multivariable Cox proportional hazards regression model"; "chi-square
# tests"). Matched pairs are not independent; beside each test this chapter sets its paired counterpart:
# the log-rank test stratified by matched set (survdiff(... + strata(set))), the Cox model with a set-clustered
# robust variance (coxph(..., cluster = set)) and McNemar's test on 1:1 pairs (mcnemar.test, and its exact binomial
# form binom.test on the discordant pairs).

binary_outcomes <- function(d) {
  r <- tolower(d$best_response_recist)
  list(orr = ifelse(is.na(r), NA, r %in% c("cr", "pr")), dcr = ifelse(is.na(r), NA, r %in% c("cr", "pr", "sd")),
       ae_any = d$ae_any == 1, ae_g34 = d$ae_grade_3_4 == 1, ae_disc = d$ae_led_to_discontinuation == 1)
}

section_matched_analyses <- function(a) {
  d <- cohort(a, "_matched")
  d$control_group <- 1 - d$treatment
  put("sensitivity.paired_n_pairs", length(unique(d$r_set)))
  for (ep in names(ENDPOINTS)) {
    time <- d[[ENDPOINTS[[ep]][1]]]; event <- d[[ENDPOINTS[[ep]][2]]]
    lr <- logrank(time, event, d$treatment)
    put(sprintf("sensitivity.unpaired_logrank_%s_p", ep), lr[["p"]])
    put(sprintf("sensitivity.unpaired_logrank_%s_chisq", ep), lr[["chisq"]])
    st <- safely({
      s <- survdiff(Surv(time, event) ~ d$treatment + strata(d$r_set))
      c(pchisq(s$chisq, 1, lower.tail = FALSE), s$chisq)
    }, 2)
    put(sprintf("sensitivity.pair_logrank_%s_p", ep), st[1])
    put(sprintf("sensitivity.pair_logrank_%s_chisq", ep), st[2])
    f <- as.formula(sprintf("Surv(%s, %s) ~ control_group", ENDPOINTS[[ep]][1], ENDPOINTS[[ep]][2]))
    for (prefix in c("naive_cox", "cluster_cox")) {
      hr <- if (prefix == "naive_cox") cox_first(f, d) else cox_first(f, d, cluster = "r_set")
      for (k in 1:5) put(sprintf("sensitivity.%s_%s_%s", prefix, ep, c("hr", "hr_lo", "hr_hi", "p", "se")[k]), hr[k])
    }
  }
  # 1:1 pairs: matched sets of exactly one treated and one control patient
  sizes <- table(d$r_set)
  one_to_one <- as.integer(names(sizes)[sizes == 2])
  put("sensitivity.mcnemar_pairs", length(one_to_one))
  outcomes <- binary_outcomes(d)
  for (name in names(outcomes)) {
    y <- outcomes[[name]]
    k <- c(sum(y[d$treatment == 1], na.rm = TRUE), sum(y[d$treatment == 0], na.rm = TRUE))
    n <- c(sum(!is.na(y[d$treatment == 1])), sum(!is.na(y[d$treatment == 0])))
    put(sprintf("sensitivity.unpaired_%s_p", name), two_by_two_p(k[1], n[1], k[2], n[2]))
    yt <- y[d$treatment == 1][match(one_to_one, d$r_set[d$treatment == 1])]
    yc <- y[d$treatment == 0][match(one_to_one, d$r_set[d$treatment == 0])]
    both <- !is.na(yt) & !is.na(yc)
    yt <- yt[both]; yc <- yc[both]
    only_t <- sum(yt & !yc); only_c <- sum(!yt & yc)
    put(sprintf("sensitivity.mcnemar_%s_pairs", name), sum(both))
    put(sprintf("sensitivity.mcnemar_%s_only_treatment", name), only_t)
    put(sprintf("sensitivity.mcnemar_%s_only_control", name), only_c)
    tab <- matrix(c(sum(yt & yc), only_c, only_t, sum(!yt & !yc)), nrow = 2)
    put(sprintf("sensitivity.mcnemar_%s_p", name), safely(mcnemar.test(tab)$p.value))
    put(sprintf("sensitivity.mcnemar_%s_p_uncorrected", name), safely(mcnemar.test(tab, correct = FALSE)$p.value))
    put(sprintf("sensitivity.mcnemar_%s_p_exact", name),
        if (only_t + only_c > 0) binom.test(only_t, only_t + only_c)$p.value else NA)
  }
}
