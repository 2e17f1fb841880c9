# Reference figures for sandbox/mse from the R packages SparseMSE 2.0.1 and
# MultipleSystemsEstimation (Chan, Silverman & Vincent; GPL).  This script only
# *calls* the packages; none of their code is copied into the sandbox.
#
# Reads the tables shipped in sandbox/mse/data/ and writes
# tests/data/mse_reference.json.  Run from the repository root:
#
#   R_LIBS_USER=/tmp/Rlib Rscript benchmarks/r/mse_reference.R [NBOOT [OUT.json]]
#
# NBOOT (default 0) adds bootstrap BCa intervals; see benchmarks/r/README.md.

suppressPackageStartupMessages({
  library(jsonlite)
  library(SparseMSE)
  library(MultipleSystemsEstimation)
})

args <- commandArgs(trailingOnly = TRUE)
nboot <- if (length(args) >= 1) as.integer(args[1]) else 0L
seed <- 1234L
data_dir <- file.path("sandbox", "mse", "data")
out_file <- if (length(args) >= 2) args[2] else file.path("tests", "data", "mse_reference.json")
if (!dir.exists(data_dir)) stop("run from the repository root")

# ------------------------------------------------------------------ tables
read_table <- function(name) {
  z <- read.csv(file.path(data_dir, paste0(name, ".csv")), check.names = FALSE)
  if (name == "simdat") {
    # one row per person with covariates: count the capture patterns of R1-R4
    z <- z[, c("R1", "R2", "R3", "R4")]
    z$count <- 1L
    z <- aggregate(count ~ R1 + R2 + R3 + R4, data = z, FUN = sum)
  }
  z
}
tables <- c("Ned", "Ned_5", "NewOrl", "NewOrl_5", "UKdat", "Western", "simdat")

# ------------------------------------------------------------------ helpers
pair_name <- function(z, ij) paste(names(z)[ij], collapse = ":")

# Record the order in which stepwisefit adds two-list terms (including pairs
# that share nobody, which SparseMSE fits as minus infinity by removing cells).
# modelfit is wrapped so that each call's mX is kept; the last call is the
# chosen model, in order of addition.
capture_order <- function(fun, pkg, z) {
  ns <- asNamespace(pkg)
  original <- get("modelfit", envir = ns)
  last <- NULL
  hook <- function(zdat, mX = NULL, check = TRUE) {
    last <<- mX
    original(zdat, mX, check)
  }
  unlockBinding("modelfit", ns)
  assign("modelfit", hook, envir = ns)
  on.exit({ assign("modelfit", original, envir = ns); lockBinding("modelfit", ns) })
  result <- fun()
  order <- if (is.null(last)) character(0) else apply(as.matrix(last), 2, function(ij) pair_name(z, ij))
  list(result = result, order = unname(order))
}

sparse_result <- function(est, fit, order, z) {
  empty <- colnames(fit$emptyoverlaps)
  list(
    estimate = unname(est["point est."]),
    ci95_wald = unname(est[c("2.5%", "97.5%")]),
    terms = I(order),
    empty_overlap_terms = I(as.character(empty)),
    dark_figure = unname(exp(coef(fit$fit)[1]))
  )
}

# "[12,13,4]" -> c("A:B", "A:C") with the table's list names, all interaction
# terms of the hierarchy (generators and their subsets of size >= 2)
hier_terms <- function(model, z) {
  gens <- strsplit(gsub("\\[|\\]", "", model), ",")[[1]]
  lists <- names(z)[seq_len(ncol(z) - 1)]
  terms <- character(0)
  for (g in gens) {
    idx <- as.integer(strsplit(g, "")[[1]])
    if (length(idx) < 2) next
    for (size in 2:length(idx)) {
      sets <- utils::combn(idx, size, simplify = FALSE)
      for (s in sets) terms <- c(terms, paste(lists[sort(s)], collapse = ":"))
    }
  }
  sort(unique(terms))
}

bic_result <- function(res, z, nboot) {
  r <- res$bic_results$res
  lists <- names(z)[seq_len(ncol(z) - 1)]
  counts <- z[, ncol(z)]
  out <- list(
    estimate = res$popest,
    model = res$model,
    terms = I(hier_terms(res$model, z)),
    bic = res$BIC,
    n_models_fitted = nrow(r),
    top5 = lapply(seq_len(min(5, nrow(r))), function(i)
      list(model = rownames(r)[i], estimate = unname(r[i, "abundance"]), bic = unname(r[i, "BIC"])))
  )
  if (!is.null(res$BCaquantiles)) {
    q <- res$BCaquantiles
    out$bootstrap <- list(
      nboot = nboot, iseed = seed,
      ntop = seq_len(nrow(q)),
      bca = unname(lapply(seq_len(nrow(q)), function(i) as.list(setNames(q[i, ], colnames(q)))))
    )
  }
  out
}

# ------------------------------------------------------------------ run
reference <- list(
  generated_by = "benchmarks/r/mse_reference.R",
  r_version = R.version.string,
  packages = list(
    SparseMSE = as.character(packageVersion("SparseMSE")),
    MultipleSystemsEstimation = as.character(packageVersion("MultipleSystemsEstimation")),
    lpSolve = as.character(packageVersion("lpSolve")),
    Rcapture = as.character(packageVersion("Rcapture"))
  ),
  settings = list(
    stepwise_pthresh = 0.02,
    ci95_wald = "estimatepopulation.0 quantiles c(0.025, 0.975): lognormal interval from the intercept's standard error",
    mse_auto = "estimate_population(method = 'auto'): BIC over the hierarchical-model catalogue (maxorder 2 for 3 lists, 3 for 4-5 lists) for up to 5 lists, stepwise for 6 or more",
    mse_bic2 = "estimate_population(method = 'bic', maxorder = 2): two-way hierarchical models only (up to 5 lists)",
    nboot = nboot,
    iseed = seed
  ),
  tables = list()
)

for (name in tables) {
  t0 <- proc.time()[["elapsed"]]
  z <- read_table(name)
  k <- ncol(z) - 1
  cat(name, ": ", k, " lists, ", sum(z$count), " observed\n", sep = "")
  entry <- list(lists = I(names(z)[1:k]), observed = sum(z$count))

  main <- SparseMSE::estimatepopulation.0(z, method = "main", quantiles = c(0.025, 0.975))
  entry$sparsemse_main <- sparse_result(main$estimate, main$MSEfit, character(0), z)

  sw <- capture_order(function() SparseMSE::estimatepopulation.0(z, method = "stepwise",
                                                              quantiles = c(0.025, 0.975), pthresh = 0.02),
                      "SparseMSE", z)
  entry$sparsemse_stepwise <- sparse_result(sw$result$estimate, sw$result$MSEfit, sw$order, z)

  mse_sw <- capture_order(function() MultipleSystemsEstimation::estimate_population(z, method = "stepwise"),
                          "MultipleSystemsEstimation", z)
  entry$mse_stepwise <- list(estimate = mse_sw$result$popest, terms = I(mse_sw$order),
                             empty_overlap_terms = I(as.character(colnames(mse_sw$result$MSEfit$emptyoverlaps))))

  if (k <= 5) {
    auto <- suppressWarnings(MultipleSystemsEstimation::estimate_population(z, method = "auto",
                                                                           nboot = nboot, iseed = seed))
    entry$mse_auto <- c(list(resolved_method = "bic"), bic_result(auto, z, nboot))
    bic2 <- MultipleSystemsEstimation::estimate_population(z, method = "bic", maxorder = 2)
    entry$mse_bic2 <- bic_result(bic2, z, 0)
  } else {
    entry$mse_auto <- list(resolved_method = "stepwise", estimate = entry$mse_stepwise$estimate,
                           terms = entry$mse_stepwise$terms)
  }

  if (nboot > 0) {
    b <- SparseMSE::estimatepopulation(z, nboot = nboot, pthresh = 0.02, iseed = seed,
                                       alpha = c(0.025, 0.975))
    entry$sparsemse_stepwise$bootstrap <- list(
      nboot = nboot, iseed = seed, ahat = b$ahat,
      bca95 = unname(b$BCaquantiles),
      bootreps_quartiles = unname(quantile(b$bootreps, c(0.25, 0.5, 0.75), type = 8))
    )
  }
  entry$seconds <- round(proc.time()[["elapsed"]] - t0, 1)
  reference$tables[[name]] <- entry
}

dir.create(dirname(out_file), showWarnings = FALSE, recursive = TRUE)
writeLines(toJSON(reference, auto_unbox = TRUE, digits = NA, pretty = TRUE), out_file)
cat("wrote", out_file, "\n")
