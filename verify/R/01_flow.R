# Section 1 of the article: the patient flow (Figure 1).
#
# Article: "Finally, the present study enrolled 126 patients, 40 (31.7%) who received lenvatinib, and 86 (68.3%)
# who received sorafenib after ATE+BEV failure."
#
# Here: the enrolled patients of the analysis table, by group. The earlier steps of the flow (screened, died or
# deteriorated on first-line therapy, second-line regimens not compared) count patients the analysis table does
# not hold, and are not recomputed.

section_flow <- function(a) {
  put("flow.enrolled", nrow(a))
  for (group in names(ROLES)) put(sprintf("flow.enrolled_%s", group), sum(a$treatment == ROLES[[group]]))
}
