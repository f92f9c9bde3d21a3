#!/usr/bin/env Rscript
# Reference values for hcc_utils.stats.survival / hcc_utils.stats.cox, computed with R's survival package.
#
# Regenerate (from the repository root):
#   Rscript tests/reference/survival_reference.R
# Writes tests/reference/survival_data.csv (deterministic, set.seed below) and the fixtures
# tests/reference/survival_reference.json. Produced with R 4.2.2 and survival 3.5-3.
#
# The data are small (about 250 rows) and built to exercise the edge cases:
#   * times rounded to 0.1 month -> many tied event times (Efron vs Breslow differ)
#   * group C: few events, median (and upper CI of the median) not reached
#   * group D: 12 patients designed so that S(t) is exactly 0.75 and 0.5 on flat segments
#              (the midpoint rule of quantile.survfit matters: q1 = 3.5, median = 7)
#   * group E: 4 patients, S(t) = 0.5 on the last, flat segment (the "last point" rule: median = 3)
#   * stratum (4 levels) and pair_id (consecutive pairs) for stratified log-rank and clustered Cox
#   * x_sep: a binary covariate whose level 1 has no events (monotone likelihood)
#   * size: 4 missing values (complete-case handling as R's na.omit)
suppressPackageStartupMessages({library(survival); library(jsonlite)})

args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[grep("^--file=", args)])
outdir <- if (length(script)) dirname(normalizePath(script)) else "tests/reference"

set.seed(20240701)
make_group <- function(label, n, rate) {
  arm <- rep(c(1L, 0L), length.out = n)
  age <- round(rnorm(n, 62, 9))
  x_bin <- rbinom(n, 1, 0.4)
  size <- round(rlnorm(n, log(6), 0.5), 1)
  lin <- 0.45 * arm + 0.03 * (age - 62) + 0.5 * x_bin + 0.05 * (size - 6)
  t_event <- rexp(n, rate * exp(lin))
  t_cens <- runif(n, 4, 30)
  time <- pmax(round(pmin(t_event, t_cens), 1), 0.1)
  status <- as.integer(t_event <= t_cens)
  data.frame(group = label, time = time, status = status, arm = arm, age = age,
             x_bin = x_bin, size = size)
}
a <- make_group("A", 100, 0.08)
b <- make_group("B", 100, 0.12)
cgrp <- make_group("C", 30, 0.004)
cgrp$time <- pmin(cgrp$time, 14.0)                 # administrative censoring: few events
cgrp$status[cgrp$time == 14.0] <- 0L
d <- data.frame(group = "D", time = c(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12),
                status = c(1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0), arm = rep(c(1L, 0L), 6),
                age = c(55, 61, 70, 48, 66, 59, 73, 62, 57, 68, 64, 51),
                x_bin = c(1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0),
                size = c(3.2, 5.5, 7.1, 2.8, 9.4, 4.6, 6.3, 8.8, 3.9, 5.1, 12.5, 4.4))
e <- data.frame(group = "E", time = c(1, 2, 3, 4), status = c(1, 1, 0, 0), arm = c(1L, 0L, 1L, 0L),
                age = c(60, 65, 58, 71), x_bin = c(0, 1, 0, 1), size = c(4.0, 6.5, 5.0, 11.0))
dat <- rbind(a, b, cgrp, d, e)
n <- nrow(dat)
dat$status <- as.integer(dat$status)
dat <- cbind(id = seq_len(n), dat)
dat$stratum <- paste0("s", ((seq_len(n) - 1) %/% 2) %% 4 + 1)   # pairs share a stratum
dat$pair_id <- (seq_len(n) + 1) %/% 2
# x_sep = 1 for 15 censored patients only: no event in level 1
cens_idx <- which(dat$status == 0)
dat$x_sep <- 0L
dat$x_sep[cens_idx[seq(1, length(cens_idx), length.out = 15)]] <- 1L
dat$size[c(7, 58, 133, 201)] <- NA
write.csv(dat, file.path(outdir, "survival_data.csv"), row.names = FALSE, na = "")
dat <- read.csv(file.path(outdir, "survival_data.csv"))   # use exactly what Python will read

out <- list(meta = list(R = R.version.string, survival = as.character(packageVersion("survival")),
                        n = nrow(dat), events = sum(dat$status)))

# ---- Kaplan-Meier (survfit, conf.type = "log") -------------------------------------------
# quantile.survfit gives the quartiles and their CI; summary(fit)$table (print.survfit) gives the median
# by a slightly different rule (survmean's minmin: no "last point" midpoint), both are fixtures.
km_table <- function(fit) {
  s <- summary(fit, censored = TRUE)
  list(time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event, n_censor = fit$n.censor,
       surv = fit$surv, std_err_fit = fit$std.err, std_err_summary = s$std.err,
       lower = fit$lower, upper = fit$upper)
}
km_quant <- function(fit) {
  q <- quantile(fit, probs = c(0.25, 0.5, 0.75))
  list(probs = c(0.25, 0.5, 0.75), quantile = unname(q$quantile), quantile_lower = unname(q$lower),
       quantile_upper = unname(q$upper))
}
fit_all <- survfit(Surv(time, status) ~ 1, data = dat)
out$km <- list(all = c(km_table(fit_all), km_quant(fit_all)))
for (g in sort(unique(dat$group))) {
  f <- survfit(Surv(time, status) ~ 1, data = dat[dat$group == g, ])
  out$km[[g]] <- c(km_table(f), km_quant(f), list(n = sum(dat$group == g),
                                                   events = sum(dat$status[dat$group == g])))
}
for (g in 0:1) {
  f <- survfit(Surv(time, status) ~ 1, data = dat[dat$arm == g, ])
  out$km[[paste0("arm", g)]] <- c(km_table(f), km_quant(f))
}
tab <- summary(survfit(Surv(time, status) ~ group, data = dat))$table
out$km_table <- list(group = sub("group=", "", rownames(tab)), n = unname(tab[, "records"]),
                     events = unname(tab[, "events"]), median = unname(tab[, "median"]),
                     lcl = unname(tab[, "0.95LCL"]), ucl = unname(tab[, "0.95UCL"]))
risk_times <- c(0, 3, 6, 9, 12, 15, 18, 40)
out$numbers_at_risk <- list(times = risk_times,
                            all = summary(fit_all, times = risk_times, extend = TRUE)$n.risk,
                            arm1 = summary(survfit(Surv(time, status) ~ 1, data = dat[dat$arm == 1, ]),
                                           times = risk_times, extend = TRUE)$n.risk)

# ---- follow-up -----------------------------------------------------------------------------
rev_fit <- survfit(Surv(time, 1 - status) ~ 1, data = dat)
out$followup <- list(
  reverse_km = unname(quantile(rev_fit, probs = c(0.25, 0.5, 0.75), conf.int = FALSE)),
  observed_type2 = unname(quantile(dat$time, c(0.25, 0.5, 0.75), type = 2)),
  observed_type7 = unname(quantile(dat$time, c(0.25, 0.5, 0.75), type = 7)))
qx <- c(3.1, 1.2, 7.7, 2.5, 2.5, 9.0, 4.4)
probs <- c(0, 0.1, 0.25, 0.5, 0.75, 0.9, 1)
out$quantile <- list(x = qx, probs = probs, type2 = unname(quantile(qx, probs, type = 2)),
                     type7 = unname(quantile(qx, probs, type = 7)),
                     size_type2 = unname(quantile(dat$size, probs, type = 2, na.rm = TRUE)),
                     size_type7 = unname(quantile(dat$size, probs, type = 7, na.rm = TRUE)))

# ---- log-rank (survdiff, rho = 0) ------------------------------------------------------------
sd_out <- function(s) {
  o <- if (is.matrix(s$obs)) rowSums(s$obs) else s$obs
  e <- if (is.matrix(s$exp)) rowSums(s$exp) else s$exp
  list(groups = sub("^.*=", "", names(s$n)), n = as.vector(s$n), observed = unname(o),
       expected = unname(e), var = unname(s$var), chisq = s$chisq,
       df = sum(e > 0) - 1, p = s$pvalue)
}
out$logrank <- list(
  arm = sd_out(survdiff(Surv(time, status) ~ arm, data = dat)),
  group = sd_out(survdiff(Surv(time, status) ~ group, data = dat)),
  arm_strata_stratum = sd_out(survdiff(Surv(time, status) ~ arm + strata(stratum), data = dat)),
  arm_strata_pair = sd_out(survdiff(Surv(time, status) ~ arm + strata(pair_id), data = dat)),
  group_strata_stratum = sd_out(survdiff(Surv(time, status) ~ group + strata(stratum), data = dat)))

# ---- Cox (coxph) -------------------------------------------------------------------------------
cox_out <- function(fit) {
  s <- summary(fit)
  cf <- s$coefficients
  ci <- s$conf.int
  res <- list(covariates = rownames(cf), coef = unname(cf[, "coef"]),
              se = unname(cf[, if ("robust se" %in% colnames(cf)) "robust se" else "se(coef)"]),
              naive_se = unname(cf[, "se(coef)"]), hr = unname(cf[, "exp(coef)"]),
              ci_low = unname(ci[, "lower .95"]), ci_high = unname(ci[, "upper .95"]),
              p = unname(cf[, "Pr(>|z|)"]), n = fit$n, events = fit$nevent,
              loglik = fit$loglik, iter = fit$iter)
  res
}
f <- Surv(time, status) ~ arm + age + x_bin + size
out$cox <- list(
  efron = cox_out(coxph(f, data = dat, ties = "efron")),
  breslow = cox_out(coxph(f, data = dat, ties = "breslow")),
  efron_cluster = cox_out(coxph(Surv(time, status) ~ arm + age + x_bin, data = dat,
                                ties = "efron", cluster = pair_id)),
  efron_cluster_stratum = cox_out(coxph(Surv(time, status) ~ arm + size, data = dat,
                                        ties = "efron", cluster = stratum)))
candidates <- c("arm", "age", "x_bin", "size", "x_sep")
uni <- lapply(candidates, function(v) {
  fit <- suppressWarnings(coxph(as.formula(paste("Surv(time, status) ~", v)), data = dat))
  cox_out(fit)
})
names(uni) <- candidates
out$cox$univariable <- uni
uni_p <- sapply(uni, function(u) u$p)
selected <- candidates[uni_p < 0.05]
out$cox$selection <- list(univariable_p = unname(uni_p), selected = selected)
out$cox$multivariable <- cox_out(coxph(as.formula(paste("Surv(time, status) ~",
                                                        paste(selected, collapse = " + "))), data = dat))
sep_warning <- NULL
sep_fit <- withCallingHandlers(coxph(Surv(time, status) ~ age + x_sep, data = dat),
                               warning = function(w) {sep_warning <<- conditionMessage(w);
                                 invokeRestart("muffleWarning")})
out$cox$separation <- c(cox_out(sep_fit), list(warning = sep_warning))

write_json(out, file.path(outdir, "survival_reference.json"), digits = NA, auto_unbox = TRUE,
           pretty = TRUE, na = "null")
cat("wrote", file.path(outdir, "survival_data.csv"), "and survival_reference.json\n")
