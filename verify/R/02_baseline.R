# Section 2 of the article: baseline characteristics (Table 1), all enrolled and PS-matched patients.
#
# Article: "Variables were expressed as mean ± standard deviation, median (interquartile range [IQR]), and number
# (%). Differences between continuous variables were assessed by Student's t-tests or Mann-Whitney U-tests,
# whereas differences between categorical variables were assessed by chi-square tests or Fisher's exact tests."
# "The median patient age was 63 years (IQR, 55-70 years), and 111 (88.1%) patients were male. HCC was of viral
# etiology in 92 (73.0%) patients, 109 (86.6%) patients were classified as having BCLC stage C tumors, and 91
# (72.2%) as having Child-Pugh A liver function."
#
# Here: quartiles by SAS PCTLDEF=5 (quantile type 2), the article's descriptive software; Mann-Whitney U with the
# normal approximation and continuity correction (SAS NPAR1WAY, wilcox.test(exact = FALSE)); chi-square without
# continuity correction. Percentages are of the patients with a value.

mann_whitney_p <- function(x, g) {
  if (setting("baseline.continuous_test", "auto") == "ttest")
    return(t.test(x[g == 1], x[g == 0], var.equal = TRUE)$p.value)
  wilcox.test(x[g == 1], x[g == 0], exact = FALSE, correct = TRUE)$p.value
}

section_baseline <- function(a) {
  for (suffix in cohort_suffixes()) {
    d <- cohort(a, suffix)
    for (group in c("", names(ROLES))) {
      rows <- if (group == "") rep(TRUE, nrow(d)) else d$treatment == ROLES[[group]]
      code <- if (group == "") "" else paste0("_", group)
      q_age <- describe_quantiles(d$age[rows]); q_cyc <- describe_quantiles(d$atebev_cycles[rows])
      for (k in 1:3) {
        stat <- c("q1", "median", "q3")[k]
        put(sprintf("baseline.age_%s%s%s", stat, code, suffix), q_age[k])
        put(sprintf("baseline.cycles_%s%s%s", stat, code, suffix), q_cyc[k])
      }
    }
    put(paste0("baseline.male", suffix), sum(d$sex_male == 1, na.rm = TRUE))
    put(paste0("baseline.viral", suffix), sum(d$viral_etiology == 1, na.rm = TRUE))
    put(paste0("baseline.bclc_c", suffix), sum(d$bclc_c == 1, na.rm = TRUE))
    put(paste0("baseline.child_pugh_a", suffix), sum(d$child_pugh_class == "A", na.rm = TRUE))
    cp <- table(d$treatment, d$child_pugh_class)
    put(if (suffix == "") "baseline.child_pugh_a_p" else paste0("baseline.child_pugh_p", suffix), categorical_p(cp))
    put(paste0("baseline.cycles_p", suffix), mann_whitney_p(d$atebev_cycles, d$treatment))
    for (group in names(ROLES)) {
      cls <- d$child_pugh_class[d$treatment == ROLES[[group]] & !is.na(d$child_pugh_class)]
      put(sprintf("baseline.child_pugh_a_%s%s", group, suffix), 100 * mean(cls == "A"))
    }
  }
}
