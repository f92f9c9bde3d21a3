# Section 4 of the article: responses to second-line treatment (Table 2), RECIST 1.1 and mRECIST.
#
# Article: "Responses to second-line treatment according to RECIST 1.1 and mRECIST criteria are presented in
# Table 2. None of the patients in either group achieved CR, whereas 3 (7.5%) patients in the lenvatinib group and
# 5 (5.8%) in the sorafenib group achieved PR. ORR was similar between the lenvatinib and sorafenib groups (7.5%
# vs. 5.8%, P=0.719). [...] DCR was significantly higher in the lenvatinib than in the sorafenib group."
#
# Here: ORR = CR + PR, DCR = CR + PR + SD, out of every patient with a recorded best response (NE included);
# exact Clopper-Pearson 95% CIs (binom.test); groups compared by chi-square without continuity correction (or
# Fisher's exact test, as configured).

two_by_two_p <- function(k1, n1, k0, n0) {
  tab <- matrix(c(k1, n1 - k1, k0, n0 - k0), nrow = 2, byrow = TRUE)
  if (any(colSums(tab) == 0)) return(NA_real_)
  categorical_p(tab)
}

section_responses <- function(a) {
  for (suffix in cohort_suffixes()) {
    d <- cohort(a, suffix)
    for (prefix in c("", "mrecist_")) {
      column <- if (prefix == "") "best_response_recist" else "best_response_mrecist"
      x <- tolower(d[[column]])
      counts <- list()
      for (group in names(ROLES)) {
        r <- x[d$treatment == ROLES[[group]] & !is.na(x)]
        n <- length(r)
        counts[[group]] <- c(n = n, orr = sum(r %in% c("cr", "pr")), dcr = sum(r %in% c("cr", "pr", "sd")),
                             sd = sum(r == "sd"))
        for (cat in c("cr", "pr", "pd", "ne")) {
          put(sprintf("response.%s%s_%s%s", prefix, cat, group, suffix), sum(r == cat))
          put(sprintf("response.%s%s_pct_%s%s", prefix, cat, group, suffix), 100 * sum(r == cat) / n)
        }
        put(sprintf("response.%ssd_n_%s%s", prefix, group, suffix), sum(r == "sd"))
        put(sprintf("response.%ssd_%s%s", prefix, group, suffix), 100 * sum(r == "sd") / n)
        for (rate in c("orr", "dcr")) {
          k <- counts[[group]][[rate]]
          ci <- binom.test(k, n)$conf.int
          put(sprintf("response.%s%s_n_%s%s", prefix, rate, group, suffix), k)
          put(sprintf("response.%s%s_%s%s", prefix, rate, group, suffix), 100 * k / n)
          put(sprintf("response.%s%s_ci_low_%s%s", prefix, rate, group, suffix), 100 * ci[1])
          put(sprintf("response.%s%s_ci_high_%s%s", prefix, rate, group, suffix), 100 * ci[2])
        }
      }
      tr <- counts$treatment; co <- counts$control
      for (rate in c("orr", "dcr", "sd"))
        put(sprintf("response.%s%s_p%s", prefix, rate, suffix), two_by_two_p(tr[[rate]], tr[["n"]], co[[rate]], co[["n"]]))
    }
  }
}
