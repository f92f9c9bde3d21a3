# Golden values of R glm(family = binomial) for tests/test_logistic.py (hcc_utils.stats.logistic).
# Four data sets chosen to make the IRLS take different numbers of iterations (mild effects, strong effects
# close to separation, a large-scale continuous covariate, a rare treatment). Run from the repository root:
#   Rscript tests/reference/logistic_reference.R
# Deterministic (set.seed); writes logistic_data.csv and logistic_reference.csv with 17 significant digits.
set.seed(20241130)
make <- function(id, n, beta, p_bin, scale_cont, base) {
  x <- cbind(age = round(rnorm(n, 62, 10)), size = round(rlnorm(n, log(scale_cont), 0.6), 1))
  for (j in seq_len(p_bin)) x <- cbind(x, rbinom(n, 1, 0.25 + 0.1 * j))
  colnames(x) <- c("x1", "x2", paste0("x", 2 + seq_len(p_bin)))
  eta <- base + as.vector(scale(x) %*% beta[seq_len(ncol(x))])
  y <- rbinom(n, 1, plogis(eta))
  data.frame(dataset = id, y = y, x)
}
sets <- list(
  make("mild", 126, c(0.3, -0.2, 0.4, 0.1, -0.3, 0.2, 0.1), 5, 6, -0.7),
  make("strong", 60, c(2.2, -1.8, 1.5, 0.9), 2, 6, 0.2),
  make("large_scale", 300, c(0.5, 0.8, -0.4, 0.3, 0), 3, 80, 0.1),
  make("rare", 400, c(0.4, 0.6, 0.5), 1, 6, -2.6)
)
cols <- paste0("x", 1:7)
data <- do.call(rbind, lapply(sets, function(d) { for (c in setdiff(cols, names(d))) d[[c]] <- NA; d[c("dataset", "y", cols)] }))
write.csv(data, "tests/reference/logistic_data.csv", row.names = FALSE, na = "")
rows <- list()
for (d in sets) {
  xs <- setdiff(names(d), c("dataset", "y"))
  fit <- glm(reformulate(xs, "y"), family = binomial, data = d)
  s <- summary(fit)$coefficients
  rows[[length(rows) + 1]] <- data.frame(dataset = d$dataset[1], term = rownames(s),
    estimate = sprintf("%.17g", s[, 1]), std_error = sprintf("%.17g", s[, 2]), z = sprintf("%.17g", s[, 3]),
    p = sprintf("%.17g", s[, 4]), iterations = fit$iter, deviance = sprintf("%.17g", fit$deviance))
}
write.csv(do.call(rbind, rows), "tests/reference/logistic_reference.csv", row.names = FALSE, quote = FALSE)
cat(R.version.string, "\n")
