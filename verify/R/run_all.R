# Runs every section of the independent R programs and writes the values by result id.
#   Rscript verify/R/run_all.R <analysis.csv> <settings.csv> <r_values.csv> [<r_notes.csv>]
# r_values.csv: id,value (17 significant digits; NA where a value is not estimable or not reached);
# r_notes.csv: key,value (versions of R and its packages, the matching engine, the pairs compared with the build's).
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 3) stop("usage: Rscript run_all.R analysis.csv settings.csv r_values.csv [r_notes.csv]")
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))))
for (f in sort(list.files(here, pattern = "^[0-9a-z_]+\\.R$", full.names = TRUE)))
  if (basename(f) != "run_all.R") source(f)
SETTINGS <- read_settings(args[2])
A <- read_analysis(args[1])

A <- section_matching(A)          # first: every matched analysis uses the matched sets formed here
SECTIONS <- c("flow", "baseline", "responses", "survival", "predictors", "subgroups", "safety", "matched_analyses",
              "weighting", "diagnostics", "matching_choices", "bootstrap")
for (s in SECTIONS) {
  f <- get0(paste0("section_", s))
  started <- proc.time()[["elapsed"]]
  if (!is.null(f)) f(A)
  note(paste0("seconds_", s), round(proc.time()[["elapsed"]] - started, 2))
}

note("r_version", R.version.string)
note("survival_version", as.character(packageVersion("survival")))
note("matchit_version", as.character(packageVersion("MatchIt")))
out <- data.frame(id = VALUES$id, value = ifelse(is.na(VALUES$value), "NA", sprintf("%.17g", VALUES$value)))
write.csv(out, args[3], row.names = FALSE, quote = FALSE)
if (length(args) >= 4) {
  keys <- sort(ls(NOTES))
  write.csv(data.frame(key = keys, value = vapply(keys, function(k) get(k, envir = NOTES), "")), args[4],
            row.names = FALSE)
}
