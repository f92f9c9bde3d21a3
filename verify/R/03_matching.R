# Section 3 of the article: propensity-score matching.
#
# Article: "The possible effects of selection bias and potential confounders between the two groups were reduced
# by 1:1 propensity score (PS) matching." "PS matching was conducted using the following factors: age, sex, tumor
# size, tumor number, extrahepatic metastasis, lymph node metastasis, and Child-Pugh class. PS matching on a 1:1
# ratio resulted in 36 pairs of patients with balanced baseline characteristics."
#
# Here: the configured covariates (matching.covariates) in an unpenalised logistic regression (glm), greedy
# nearest-neighbour matching without replacement (MatchIt "nearest"), the configured ratio, order and caliper
# (in standard deviations of the distance, std.caliper = TRUE) on the configured scale (logit of the score or
# the score). The matched cohort built here is the one every matched analysis in R uses.

# A MatchIt build whose C++ abs() takes integers (MatchIt issue #163: some 4.5.1-4.5.3 builds, the CRAN 4.5.1
# binary of Debian among them) truncates distances before the caliper test and the choice of the nearer side:
# a caliper narrower than one distance unit never binds. Detected on three units: with a caliper of 0.01 the
# treated unit at 0.5 must stay unmatched (its controls are 0.2 and 0.1 away).
matchit_has_integer_abs <- function() {
  if (is.null(NOTES$.integer_abs)) {             # once per run
    d <- data.frame(t = c(1, 0, 0), x = c(0.5, 0.3, 0.6))
    m <- suppressWarnings(matchit(t ~ x, data = d, distance = d$x, caliper = 0.01, std.caliper = FALSE))
    NOTES$.integer_abs <- !is.na(m$match.matrix[1, 1])
  }
  NOTES$.integer_abs
}

# Greedy nearest-neighbour matching as MatchIt documents it, in base R: all units sorted by distance with ties in
# data order; treated units visited in the configured order; each takes the nearest still-available control below
# or above it in that sort (the lower one when equally near), within the caliper (a control exactly at the caliper
# is accepted); with ratio k, every treated unit takes its first control, then its second, and so on.
greedy_match <- function(d, treat, ratio, width, order_rule) {
  n <- length(d)
  pos <- integer(n); pos[order(d, seq_len(n))] <- seq_len(n)
  treated <- which(treat == 1)
  visit <- switch(order_rule,
                  largest = treated[order(-d[treated], seq_along(treated))],
                  smallest = treated[order(d[treated], seq_along(treated))],
                  data = treated,
                  stop("matching.order '", order_rule, "' cannot be reproduced in R (numpy's random stream)"))
  available <- treat == 0
  matches <- matrix(NA_integer_, nrow = n, ncol = ratio)
  for (round in seq_len(ratio)) {
    for (i in visit) {
      if (round > 1 && is.na(matches[i, 1])) next          # unmatched in the first round: left out
      cand <- which(available)
      if (!length(cand)) break
      below <- cand[pos[cand] < pos[i]]; above <- cand[pos[cand] > pos[i]]
      low <- if (length(below)) below[which.max(pos[below])] else NA
      high <- if (length(above)) above[which.min(pos[above])] else NA
      dl <- if (is.na(low)) Inf else abs(d[low] - d[i])
      dh <- if (is.na(high)) Inf else abs(d[high] - d[i])
      if (!is.na(width)) { if (dl > width) dl <- Inf; if (dh > width) dh <- Inf }
      if (is.infinite(dl) && is.infinite(dh)) next
      pick <- if (dl <= dh) low else high
      matches[i, round] <- pick
      available[pick] <- FALSE
    }
  }
  matches[treated, , drop = FALSE]
}

# Matched sets of the configured matching, or of a scenario of the chapter on matching choices (other
# covariates, ratio, caliper, exact strata): the engine is MatchIt where its build computes the configured
# algorithm, else the base-R greedy matching above (the reason is noted).
match_study <- function(a, covs = setting_list("matching.covariates"), ratio = as.integer(setting("matching.ratio", "1")),
                        caliper = setting_num("matching.caliper"), exact = NULL) {
  fit <- suppressWarnings(glm(reformulate(covs, "treatment"), family = binomial, data = a))
  # the scores from the linear predictor summed term by term in a fixed order, so that patients with equal
  # covariates (a bootstrap sample's duplicates among them) get equal scores and their ties keep data order
  x <- model.matrix(fit); b <- coef(fit); b[is.na(b)] <- 0
  eta <- numeric(nrow(x))
  for (j in seq_along(b)) eta <- eta + x[, j] * b[[j]]
  ps <- binomial()$linkinv(eta)
  scale <- setting("matching.caliper_scale", "logit")
  d <- if (scale == "logit") log(ps / (1 - ps)) else ps
  order_rule <- setting("matching.order", "largest")
  compat <- setting("matching.compat", "")
  width <- if (is.na(caliper)) NA_real_ else caliper * sd(d)
  defect <- matchit_has_integer_abs()
  separated <- !fit$converged || any(ps < 1e-8 | ps > 1 - 1e-8)   # (quasi-)complete separation: no estimates
  version <- as.character(packageVersion("MatchIt"))
  rewritten <- package_version(version) >= "4.6.0"  # MatchIt's October 2024 rewrite of nearest matching
  # Which engine gives the configured algorithm: MatchIt itself when its build computes it, else the base-R greedy
  use_matchit <- switch(if (nzchar(compat)) compat else "intended",
                        intended = !defect && (ratio == 1 || rewritten),
                        "matchit-4.5.1" = !defect && version == "4.5.1",
                        "matchit-4.5.1-integer-abs" = defect && version == "4.5.1")
  note <- ""
  treated <- which(a$treatment == 1)
  if (use_matchit) {
    m <- suppressWarnings(matchit(reformulate(covs, "treatment"), data = a, method = "nearest", distance = d,
                                  ratio = ratio, caliper = if (is.na(caliper)) NULL else caliper,
                                  exact = if (is.null(exact)) NULL else reformulate(exact),
                                  std.caliper = TRUE, m.order = order_rule, replace = FALSE))
    mm <- matrix(as.integer(m$match.matrix), ncol = ncol(m$match.matrix))
    engine <- paste("MatchIt", version)
  } else {
    if (nzchar(compat)) stop("matching.compat '", compat, "' needs MatchIt 4.5.1 ",
                             if (compat == "matchit-4.5.1") "built with a floating-point abs()" else "with the integer abs()")
    strata <- if (is.null(exact)) rep("", nrow(a)) else do.call(paste, c(unname(as.list(a[exact])), sep = "|"))
    mm <- matrix(NA_integer_, nrow = length(treated), ncol = ratio)
    for (key in sort(unique(strata))) {          # exact strata matched one by one, with the whole cohort's width
      rows <- which(strata == key)
      if (!any(a$treatment[rows] == 1) || !any(a$treatment[rows] == 0)) next
      local <- greedy_match(d[rows], a$treatment[rows], ratio, width, order_rule)
      mm[match(rows[a$treatment[rows] == 1], treated), ] <- matrix(rows[local], ncol = ratio)
    }
    engine <- "greedy nearest-neighbour matching in base R (MatchIt's documented rules)"
    note <- if (defect) sprintf("MatchIt %s here computes abs() in integers (MatchIt issue #163, fixed in 4.5.4): its calipers below one distance unit do not bind, so the documented algorithm is run in base R", version)
            else sprintf("MatchIt %s's k:1 matching passes over a control after an earlier match (fixed in its 2024 rewrite): the documented algorithm is run in base R", version)
  }
  set <- rep(NA_integer_, nrow(a))
  kept <- which(!is.na(mm[, 1]))
  for (s in seq_along(kept)) {
    t <- treated[kept[s]]
    set[c(t, mm[kept[s], ][!is.na(mm[kept[s], ])])] <- s
  }
  list(ps = ps, distance = d, width = width, set = set, engine = engine, note = note, defect = defect,
       version = version, unmatched = length(treated) - length(kept), separated = separated)
}

# MatchIt's weights of a matched set (match.data): treated 1; a control 1 / (controls in its set), rescaled so
# that the controls' weights sum to the number of matched controls.
set_weights_r <- function(set, treat) {
  w <- rep(1, length(set))
  ctrl <- treat == 0
  size <- ave(as.numeric(ctrl), set, FUN = sum)
  w[ctrl] <- 1 / size[ctrl]
  w[ctrl] <- w[ctrl] * sum(ctrl) / sum(w[ctrl])
  w
}

section_matching <- function(a) {
  M <- match_study(a)
  MATCHING <<- M
  put("matching.caliper_width", M$width)
  matched <- !is.na(M$set)
  put("matching.pairs", sum(matched & a$treatment == 1))
  put("matching.matched_control", sum(matched & a$treatment == 0))
  put("matching.unmatched_treated", M$unmatched)
  x <- a$atebev_cycles[matched]; g <- a$treatment[matched]
  put("matching.cycles_p_matched", wilcox.test(x[g == 1], x[g == 0], exact = FALSE, correct = TRUE)$p.value)
  # the pairs themselves are compared apart from the numbers (verify.csv's notes)
  build_set <- a$pair_id
  same <- identical(is.na(build_set), is.na(M$set)) &&
    all(tapply(M$set[matched], build_set[matched], function(s) length(unique(s))) == 1)
  differing <- if (same) 0 else {
    key_r <- tapply(seq_len(nrow(a))[matched], M$set[matched], function(i) paste(sort(a$patient_id[i]), collapse = "+"))
    bm <- !is.na(build_set)
    key_b <- tapply(seq_len(nrow(a))[bm], build_set[bm], function(i) paste(sort(a$patient_id[i]), collapse = "+"))
    length(setdiff(key_r, key_b)) + length(setdiff(key_b, key_r))
  }
  note("matching_engine", M$engine)
  note("matching_note", M$note)
  note("matchit_integer_abs_defect", if (M$defect) "yes" else "no")
  note("matched_sets_r", length(unique(na.omit(M$set))))
  note("matched_sets_differing", differing)
  note("ps_max_abs_difference", if ("ps" %in% names(a)) max(abs(a$ps - M$ps)) else NA)
  a$r_set <- M$set
  a$r_weight <- NA_real_
  a$r_weight[matched] <- set_weights_r(M$set[matched], a$treatment[matched])
  a
}
