#!/usr/bin/env Rscript
# Reference values for hcc_utils.stats.cox_zph (proportional-hazards test) and hcc_utils.stats.rmst
# (restricted mean survival time), computed with R's survival package.
#
# Regenerate (from the repository root):
#   Rscript tests/reference/diagnostics_reference.R
# Reads tests/reference/survival_data.csv (committed; made by survival_reference.R: tied times, a censored
# flat segment, 4 missing sizes) and writes
#   diagnostics_zph.csv        cox.zph(fit)$table per model: model, term, chisq, df, p
#   diagnostics_zph_resid.csv  cox.zph(fit)$y / $x / $time of model "multi_efron" (scaled Schoenfeld residuals)
#   diagnostics_rmst.csv       summary(survfit(...), rmean = tau)$table: group, tau, rmean, se
# Produced with R 4.2.2 and survival 3.5-3. No randomness; a re-run reproduces the files byte for byte.
suppressPackageStartupMessages(library(survival))

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
outdir <- if (length(script)) dirname(normalizePath(script)) else "tests/reference"
dat <- read.csv(file.path(outdir, "survival_data.csv"))
ab <- dat[dat$group %in% c("A", "B"), ]

models <- list(
  uni_arm_efron   = list(coxph(Surv(time, status) ~ arm, data = ab), "km"),
  uni_xbin_efron  = list(coxph(Surv(time, status) ~ x_bin, data = dat), "km"),
  multi_efron     = list(coxph(Surv(time, status) ~ arm + age + x_bin + size, data = dat), "km"),
  multi_breslow   = list(coxph(Surv(time, status) ~ arm + age + x_bin + size, data = dat, ties = "breslow"), "km"),
  multi_identity  = list(coxph(Surv(time, status) ~ arm + age + x_bin, data = ab), "identity"),
  multi_rank      = list(coxph(Surv(time, status) ~ arm + x_bin, data = dat), "rank"),
  multi_log       = list(coxph(Surv(time, status) ~ arm + size, data = dat), "log")
)
rows <- list()
for (name in names(models)) {
  z <- cox.zph(models[[name]][[1]], transform = models[[name]][[2]])
  tab <- z$table
  rows[[name]] <- data.frame(model = name, transform = models[[name]][[2]], term = rownames(tab),
                             chisq = sprintf("%.15g", tab[, "chisq"]), df = tab[, "df"],
                             p = sprintf("%.15g", tab[, "p"]))
}
write.csv(do.call(rbind, rows), file.path(outdir, "diagnostics_zph.csv"), row.names = FALSE, quote = FALSE)

z <- cox.zph(models$multi_efron[[1]])
res <- data.frame(time = sprintf("%.15g", z$time), x = sprintf("%.15g", z$x))
for (term in colnames(z$y)) res[[term]] <- sprintf("%.15g", z$y[, term])
write.csv(res, file.path(outdir, "diagnostics_zph_resid.csv"), row.names = FALSE, quote = FALSE)

rm_rows <- list()
fit <- survfit(Surv(time, status) ~ group, data = dat)
for (tau in c(5, 6, 12, 20.3)) {
  tab <- summary(fit, rmean = tau)$table
  rm_rows[[length(rm_rows) + 1]] <- data.frame(group = sub("group=", "", rownames(tab)), tau = tau,
                                               rmean = sprintf("%.15g", tab[, "rmean"]),
                                               se = sprintf("%.15g", tab[, "se(rmean)"]))
}
write.csv(do.call(rbind, rm_rows), file.path(outdir, "diagnostics_rmst.csv"), row.names = FALSE, quote = FALSE)
