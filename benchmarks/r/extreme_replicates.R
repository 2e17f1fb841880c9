# R's estimate of the replicates written by benchmarks/r/extreme_replicates.py (see there).  Calls the packages
# only.  Run from the repository root:  R_LIBS_USER=/tmp/Rlib Rscript benchmarks/r/extreme_replicates.R FILE TABLE
suppressPackageStartupMessages({library(jsonlite); library(SparseMSE); library(MultipleSystemsEstimation)})
a <- commandArgs(trailingOnly = TRUE)
d <- fromJSON(a[1])
orig <- read.csv(file.path("sandbox", "mse", "data", paste0(a[2], ".csv")), check.names = FALSE)
k <- ncol(orig) - 1
ns <- asNamespace("MultipleSystemsEstimation")
if (k <= 5) {
  z <- ns$subsetmat(ns$assemble_bic(orig, maxorder = 3, checkexist = TRUE), ntopmodels = 100, maxorder = 3)
  models <- rownames(z$res)
}
okey <- apply(orig[, 1:k], 1, paste, collapse = "")
for (i in seq_len(nrow(d$rows))) {
  pat <- d$rows$patterns[[i]]
  counts <- d$rows$counts[[i]]
  if (k > 5) {
    # the rows of the data file, as SparseMSE's own bootstrap passes them
    zr <- orig; zr[, k + 1] <- counts[match(okey, apply(pat, 1, paste, collapse = ""))]
    stopifnot(sum(zr[, k + 1]) == sum(counts))
    est <- unname(SparseMSE::estimatepopulation.0(zr, quantiles = NULL, pthresh = 0.02)$estimate["point est."])
    which <- "stepwise"
  } else {
    zr <- as.data.frame(pat); names(zr) <- names(orig)[1:k]; zr$count <- counts
    ing <- ns$ingest_data(as.matrix(zr))
    best <- Inf; est <- NA; which <- NA
    for (m in models) {
      if (ns$checkident.1(ns$convert_from_hierarchy(m), ing) > 0) {
        f <- ns$fit_hier_model(ing, m, checkid = FALSE)
        if (is.finite(f$bic) && f$bic < best) { best <- f$bic; est <- f$abundance; which <- m }
      }
    }
  }
  cat("replicate", d$rows$replicate[i], "ours", d$rows$ours[i], "R", est, which, "\n")
}
