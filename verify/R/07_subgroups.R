# Section 7 of the article: third-line therapy, and survival by the number of prior ATE+BEV cycles.
#
# Article: "Eighteen (40%) patients in the lenvatinib group and 44 (51.2%) patients in the sorafenib group received
# third-line treatment (P=0.519). [...] In the lenvatinib group, the median OS did not differ between patients who
# did and did not receive third-line treatment in both the unmatched (P=0.870) and PS-matched (P=0.940) cohorts.
# However, median OS was significantly affected by the type of third-line treatment [...]"
# "There was no difference in survival outcomes between the lenvatinib group and sorafenib group according to the
# number of previous ATE+BEV treatment cycles (<=3 vs. >3) in both the unmatched and PS-matched cohorts."
#
# Here: receipt of third-line therapy by group (chi-square without continuity correction, or Fisher as
# configured); within each group, OS by receipt (log-rank, and the Kaplan-Meier median of recipients and of
# non-recipients) and, among recipients, by regimen (log-rank; levels with fewer than survival.min_subgroup_size
# patients left out); in each cycles subgroup (<= the configured cut-point, and
# above it), Kaplan-Meier medians by group and the log-rank test.

section_subgroups <- function(a) {
  minimum <- as.integer(setting("survival.min_subgroup_size", "1"))
  counts <- list()
  for (group in names(ROLES)) {
    part <- a[a$treatment == ROLES[[group]], ]
    received <- sum(part$received_third_line == 1)
    counts[[group]] <- c(received, nrow(part))
    put(sprintf("thirdline.%s", group), received)
    put(sprintf("thirdline.%s_pct", group), 100 * received / nrow(part))
    for (regimen in setdiff(unique(part$third_line_regimen), c("none", NA)))
      put(sprintf("thirdline.%s_%s", group, regimen), sum(part$third_line_regimen == regimen, na.rm = TRUE))
  }
  put("thirdline.p", two_by_two_p(counts$treatment[1], counts$treatment[2], counts$control[1], counts$control[2]))
  level_p <- function(p, column) {
    sizes <- table(p[[column]])
    p <- p[p[[column]] %in% names(sizes)[sizes >= minimum], ]
    if (length(unique(p[[column]])) < 2) return(NA_real_)
    logrank(p$os_months, p$os_event, as.character(p[[column]]))[["p"]]
  }
  for (suffix in cohort_suffixes()) {
    d <- cohort(a, suffix)
    for (group in names(ROLES)) {
      part <- d[d$treatment == ROLES[[group]], ]
      put(sprintf("thirdline.os_received_%s_p%s", group, suffix), level_p(part, "received_third_line"))
      for (word in c("yes", "no")) {  # who lives longer: the median OS of recipients and non-recipients
        arm <- part[part$received_third_line == (if (word == "yes") 1 else 0), ]
        put(sprintf("thirdline.os_received_%s_median_%s%s", group, word, suffix),
            if (nrow(arm) >= max(1, minimum)) km_quartiles(arm$os_months, arm$os_event)$est[2] else NA)
      }
      put(sprintf("thirdline.os_type_%s_p%s", group, suffix),
          level_p(part[part$received_third_line == 1, ], "third_line_regimen"))
    }
    cut <- as.numeric(setting("cutpoints.atebev_cycles_subgroup", "3"))
    label <- format(cut, trim = TRUE, drop0trailing = TRUE)
    for (sub in c("le", "gt")) {
      part <- d[if (sub == "le") d$atebev_cycles <= cut else d$atebev_cycles > cut, ]
      for (ep in names(ENDPOINTS)) {
        key <- sprintf("cycles.%s%s_%s", sub, label, ep)
        time <- part[[ENDPOINTS[[ep]][1]]]; event <- part[[ENDPOINTS[[ep]][2]]]
        sizes <- c(treatment = sum(part$treatment == 1), control = sum(part$treatment == 0))
        for (group in names(ROLES)) {
          g <- part$treatment == ROLES[[group]]
          put(sprintf("%s_n_%s%s", key, group, suffix), sizes[[group]])
          put(sprintf("%s_median_%s%s", key, group, suffix),
              if (sizes[[group]] >= minimum && sizes[[group]] > 0) km_quartiles(time[g], event[g])$est[2] else NA)
        }
        put(sprintf("%s_logrank_p%s", key, suffix),
            if (all(sizes >= minimum)) logrank(time, event, part$treatment)[["p"]] else NA)
      }
    }
  }
}
