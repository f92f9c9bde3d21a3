# Section 8 of the article: safety (Table 5).
#
# Article: "Treatment-related AEs of any grade occurred in 32 patients (80.0%) of the lenvatinib group and 75
# patients (87.2%) of the sorafenib group (P=0.282). Grade 3 or 4 AEs occurred in 35.0% and 38.4% of patients in
# the lenvatinib and sorafenib groups, respectively (P=0.145). [...] HFS was significantly more frequent in the
# sorafenib group than in the lenvatinib group (19.8% vs. 5.0%, P=0.031)."
#
# Here: each ae_<term> column holds the worst CTCAE grade; any grade = grade >= 1, grade 3-4 = grade 3 or 4
# (grade 5 counts under any grade only); denominators are all patients of the group; groups compared by
# chi-square without continuity correction (Fisher as configured), no test when nobody had the event.

section_safety <- function(a) {
  summary_columns <- c("ae_any", "ae_grade_3_4", "ae_led_to_discontinuation")
  terms <- setdiff(grep("^ae_", names(a), value = TRUE), summary_columns)
  short <- setNames(setting_list("safety.id_names"), setting_list("safety.terms"))
  grades <- as.matrix(a[, terms, drop = FALSE])
  flags <- list(any = rowSums(grades >= 1) > 0, g34 = rowSums(grades >= 3 & grades <= 4) > 0)
  if ("ae_led_to_discontinuation" %in% names(a)) flags$disc <- a$ae_led_to_discontinuation == 1
  for (term in terms) {
    base <- sub("^ae_", "", term)
    name <- if (base %in% names(short)) short[[base]] else base
    flags[[name]] <- a[[term]] >= 1
    flags[[paste0(name, "_g34")]] <- a[[term]] >= 3 & a[[term]] <= 4
  }
  for (name in names(flags)) {
    counts_first <- name %in% c("any", "disc")
    k <- c(); n <- c()
    for (group in names(ROLES)) {
      g <- a$treatment == ROLES[[group]]
      k[group] <- sum(flags[[name]][g]); n[group] <- sum(g)
      put(sprintf("safety.%s%s_%s", name, if (counts_first) "" else "_n", group), k[group])
      put(sprintf("safety.%s%s_%s", name, if (counts_first) "_pct" else "", group), 100 * k[group] / n[group])
    }
    put(sprintf("safety.%s_p", name), two_by_two_p(k[["treatment"]], n[["treatment"]], k[["control"]], n[["control"]]))
  }
}
