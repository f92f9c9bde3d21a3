# Common set-up of the independent R programs (verify/R): the analysis table, the run's settings, and the
# small helpers every section uses. Written against `analysis.csv` (the derived analysis table every build writes)
# and the run's configuration, never against the Python code of the book.
#
# Run all sections with run_all.R:  Rscript verify/R/run_all.R analysis.csv settings.csv r_values.csv
# (`hcc-study verify` writes settings.csv from the run's manifest and compares r_values.csv with results.csv).
# Needs R >= 4.1 with the recommended package `survival` and the CRAN package `MatchIt`.

suppressPackageStartupMessages({
  library(survival)
  library(MatchIt)
})

# ---- settings ------------------------------------------------------------------------------------------------
# settings.csv: key,value; lists are separated by ";" and an empty value means "none" (null in study.yml).
read_settings <- function(path) {
  s <- read.csv(path, colClasses = "character", na.strings = character(0))
  setNames(as.list(s$value), s$key)
}
setting <- function(key, default = NULL) {
  v <- SETTINGS[[key]]
  if (is.null(v)) default else v
}
setting_list <- function(key) {
  v <- setting(key, "")
  if (!nzchar(v)) character(0) else strsplit(v, ";", fixed = TRUE)[[1]]
}
setting_num <- function(key) {
  v <- setting(key, "")
  if (!nzchar(v)) NA_real_ else as.numeric(v)
}

# ---- the analysis table --------------------------------------------------------------------------------------
# analysis.csv keeps one row per enrolled patient. Text cells a spreadsheet would run as formulas carry a
# leading "'" (the build's protection); it is removed here.
read_analysis <- function(path) {
  a <- read.csv(path, stringsAsFactors = FALSE, na.strings = c("", "NA"), check.names = FALSE)
  for (col in names(a)) if (is.character(a[[col]])) a[[col]] <- sub("^'([=+@-])", "\\1", a[[col]])
  a
}

# ---- recorded values -----------------------------------------------------------------------------------------
# Every number is put under the result id the book uses, so that `hcc-study verify` can compare them by id.
VALUES <- new.env()
VALUES$id <- character(0)
VALUES$value <- numeric(0)
put <- function(id, value) {
  value <- suppressWarnings(as.numeric(value))
  if (length(value) != 1) value <- NA_real_
  VALUES$id <- c(VALUES$id, id)
  VALUES$value <- c(VALUES$value, value)
  invisible(value)
}
# a value that the article's rules leave undefined (no event, no pair) is recorded as NA
safely <- function(expr, n = 1) tryCatch(expr, error = function(e) rep(NA_real_, n))

# ---- groups and cohorts --------------------------------------------------------------------------------------
# The groups are named by their role in the ids: "treatment" (treatment = 1) and "control" (treatment = 0).
ROLES <- c(treatment = 1, control = 0)
cohort_suffixes <- function() c(enrolled = "", matched = "_matched")

# SAS PCTLDEF=5 quantiles (R type 2), the article's descriptive software, or another R type when configured.
describe_quantiles <- function(x, probs = c(0.25, 0.5, 0.75)) {
  x <- x[!is.na(x)]
  if (!length(x)) return(rep(NA_real_, length(probs)))
  type <- switch(setting("baseline.quantile_method", "sas5"), sas5 = 2, r7 = 7, r6 = 6, sas4 = 6, 2)
  unname(quantile(x, probs, type = type))
}

# Pearson chi-square without continuity correction (the article's p-values), or Fisher's exact test when an
# expected count is below 5 and the configuration asks for it.
categorical_p <- function(tab) {
  tab <- tab[rowSums(tab) > 0, colSums(tab) > 0, drop = FALSE]
  if (nrow(tab) < 2 || ncol(tab) < 2) return(NA_real_)
  expected <- outer(rowSums(tab), colSums(tab)) / sum(tab)
  if (setting("baseline.categorical_test", "chisq") == "fisher_if_sparse" && any(expected < 5))
    return(fisher.test(tab)$p.value)
  suppressWarnings(chisq.test(tab, correct = FALSE)$p.value)
}

# ---- survival helpers ----------------------------------------------------------------------------------------
ENDPOINTS <- list(os = c("os_months", "os_event"), pfs = c("pfs_months", "pfs_event"))

# Kaplan-Meier quartiles with their 95% CIs as quantile.survfit gives them (log transformation, survfit's default)
km_quartiles <- function(time, event) {
  fit <- survfit(Surv(time, event) ~ 1)
  q <- quantile(fit, probs = c(0.25, 0.5, 0.75))
  list(est = unname(q$quantile), lower = unname(q$lower), upper = unname(q$upper), events = sum(event))
}

at_risk <- function(time, months) sapply(months, function(m) sum(time >= m))

logrank <- function(time, event, group) {
  if (sum(event) == 0 || length(unique(group)) < 2) return(c(p = NA, chisq = NA, df = NA))
  s <- survdiff(Surv(time, event) ~ group)
  df <- sum(s$n > 0) - 1
  c(p = pchisq(s$chisq, df, lower.tail = FALSE), chisq = s$chisq, df = df)
}

# Cox model (configured ties; Wald CI and P): hazard ratio, limits, P and SE of the first term. `weights` and
# `cluster` name columns of `data` (case weights; a robust variance clustered on the column's values).
cox_first <- function(formula, data, weights = NULL, cluster = NULL) {
  if (!is.null(cluster)) formula <- update(formula, as.formula(sprintf(". ~ . + cluster(%s)", cluster)))
  ties <- setting("cox.ties", "efron")
  fit <- tryCatch(suppressWarnings(
    if (is.null(weights)) coxph(formula, data = data, ties = ties)
    else { data$.weight <- data[[weights]]; coxph(formula, data = data, weights = .weight, ties = ties) }),
    error = function(e) NULL)
  if (is.null(fit) || !is.finite(coef(fit)[1]) || abs(coef(fit)[1]) > 20)
    return(c(hr = NA_real_, lo = NA_real_, hi = NA_real_, p = NA_real_, se = NA_real_))
  b <- unname(coef(fit)[1]); se <- unname(sqrt(diag(vcov(fit)))[1])
  z <- qnorm(0.975)
  c(hr = exp(b), lo = exp(b - z * se), hi = exp(b + z * se), p = 2 * pnorm(-abs(b / se)), se = se)
}

month_id <- function(m) gsub(".", "_", format(m, trim = TRUE, drop0trailing = TRUE), fixed = TRUE)

# Notes: facts about the run that are not numbers of results.csv (engines, versions, pair differences)
NOTES <- new.env()
note <- function(key, value) assign(key, as.character(value), envir = NOTES)

# The cohort of a result id's suffix: "" all enrolled patients, "_matched" the PS-matched patients as R matched
# them (03_matching.R adds r_set, the matched set, and r_weight, MatchIt's weight, to the table).
cohort <- function(a, suffix) if (suffix == "") a else a[!is.na(a$r_set), , drop = FALSE]
