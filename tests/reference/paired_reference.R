#!/usr/bin/env Rscript
# Reference values for the paired analyses of the matched cohort (hcc_utils.stats.contingency.mcnemar_test,
# hcc_utils.stats.logrank.logrank_test(strata=), hcc_utils.stats.cox.cox_model(cluster_col=)), computed with R.
#
# Regenerate (from the repository root):
#   Rscript tests/reference/paired_reference.R
# Reads tests/reference/paired_data.csv (the 1:1 PS-matched pairs of the bundled synthetic cohort, analysis columns
# only: pair, treatment, OS, PFS and 0/1 outcomes) and writes tests/reference/paired_reference.csv with the columns
# analysis, statistic, value. Produced with R 4.2.2 and survival 3.5-3; deterministic (no random numbers).
suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
outdir <- if (length(script)) dirname(normalizePath(script)) else "tests/reference"

d <- read.csv(file.path(outdir, "paired_data.csv"))
rows <- list()
put <- function(analysis, statistic, value) {
  rows[[length(rows) + 1]] <<- data.frame(analysis = analysis, statistic = statistic, value = as.numeric(value))
}

for (e in c("os", "pfs")) {
  time <- d[[paste0(e, "_months")]]
  event <- d[[paste0(e, "_event")]]
  plain <- survdiff(Surv(time, event) ~ treatment, data = d)
  paired <- survdiff(Surv(time, event) ~ treatment + strata(pair_id), data = d)
  put(paste0("logrank_", e), "chisq", plain$chisq)
  put(paste0("logrank_", e), "p", pchisq(plain$chisq, 1, lower.tail = FALSE))
  put(paste0("pair_logrank_", e), "chisq", paired$chisq)
  put(paste0("pair_logrank_", e), "p", pchisq(paired$chisq, 1, lower.tail = FALSE))
  for (ties in c("efron", "breslow")) {
    fit <- coxph(Surv(time, event) ~ control_group, data = d, cluster = pair_id, ties = ties)
    s <- summary(fit)
    name <- paste0("cluster_cox_", e, "_", ties)
    put(name, "coef", coef(fit))
    put(name, "se", sqrt(fit$var[1, 1]))
    put(name, "naive_se", sqrt(fit$naive.var[1, 1]))
    put(name, "hr", s$conf.int[1, "exp(coef)"])
    put(name, "ci_low", s$conf.int[1, "lower .95"])
    put(name, "ci_high", s$conf.int[1, "upper .95"])
    put(name, "p", s$coefficients[1, "Pr(>|z|)"])
  }
}

# McNemar on the matched pairs' binary outcomes: rows = treated member (1, 0), columns = control member (1, 0)
treated <- d[d$treatment == 1, ]
control <- d[d$treatment == 0, ]
treated <- treated[order(treated$pair_id), ]
control <- control[order(control$pair_id), ]
mcnemar_rows <- function(name, tab) {
  for (correct in c(TRUE, FALSE)) {
    m <- mcnemar.test(tab, correct = correct)
    suffix <- if (correct) "corrected" else "uncorrected"
    put(paste0("mcnemar_", name), paste0("statistic_", suffix), m$statistic)
    put(paste0("mcnemar_", name), paste0("p_", suffix), m$p.value)
  }
  b <- tab[1, 2]; cc <- tab[2, 1]
  put(paste0("mcnemar_", name), "p_exact", if (b + cc > 0) binom.test(b, b + cc)$p.value else NA)
  put(paste0("mcnemar_", name), "b", b)
  put(paste0("mcnemar_", name), "c", cc)
}
for (o in c("orr", "dcr", "ae_any", "ae_g34", "ae_disc")) {
  tab <- table(factor(treated[[o]], levels = c(1, 0)), factor(control[[o]], levels = c(1, 0)))
  mcnemar_rows(o, tab)
}
# Hand-made tables: equal discordant counts, one discordant pair, a large imbalance, small counts
hand <- list(equal = c(5, 4, 4, 7), single = c(3, 1, 0, 6), large = c(20, 31, 9, 40), small = c(0, 2, 7, 1))
for (name in names(hand)) mcnemar_rows(paste0("hand_", name), matrix(hand[[name]], 2, 2, byrow = TRUE))

out <- do.call(rbind, rows)
write.csv(format(out, digits = 17), file.path(outdir, "paired_reference.csv"), row.names = FALSE, quote = FALSE)
