# Bootstrap intervals of SparseMSE 2.0.1 and MultipleSystemsEstimation 1.1.0 for several random
# seeds, so that the R reference for a BCa limit is a distribution (mean and spread over seeds)
# rather than one draw.  This script only *calls* the packages; none of their code is copied into
# the sandbox.  Run from the repository root:
#
#   R_LIBS_USER=/tmp/Rlib Rscript benchmarks/r/mse_bootstrap_seeds.R SEEDS NBOOT OUT.json [TABLES [REPLICATES.json]]
#
#   SEEDS       e.g. 1:5 or 1,2,3 (the iseed argument of the packages)
#   NBOOT       bootstrap replicates per seed (200 for the committed figures)
#   OUT.json    limits per table and seed (tests/data/mse_bootstrap_seeds.json)
#   TABLES      comma-separated table names, or "all" (default)
#   REPLICATES  optional: also write, for the FIRST seed only, every bootstrap replicate table with
#               the estimate R gave it, the jackknife estimates and the acceleration, so that our
#               estimator can be run on exactly R's replicates (no random number generator involved)
#
# Per table the interval is the one `method = "auto"` gives: for up to 5 lists
# MultipleSystemsEstimation::estimate_population(method = "auto", nboot, iseed) - the BCa
# bootstrap over the top models (all for 3 lists, 20 for 4, 100 for 5) - and for 6 or more lists
# SparseMSE::estimatepopulation (stepwise selection repeated on every replicate, BCa).
# See benchmarks/r/README.md.

suppressPackageStartupMessages({
  library(jsonlite)
  library(SparseMSE)
  library(MultipleSystemsEstimation)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 3) stop("usage: mse_bootstrap_seeds.R SEEDS NBOOT OUT.json [TABLES [REPLICATES.json]]")
seeds <- eval(parse(text = paste0("c(", args[1], ")")))
nboot <- as.integer(args[2])
out_file <- args[3]
all_tables <- c("simdat", "Ned_5", "NewOrl_5", "Western", "Ned", "UKdat", "NewOrl")
tables <- if (length(args) >= 4 && args[4] != "all") strsplit(args[4], ",")[[1]] else all_tables
replicates_file <- if (length(args) >= 5) args[5] else NA
alpha <- c(0.025, 0.1, 0.9, 0.975)
data_dir <- file.path("sandbox", "mse", "data")
if (!dir.exists(data_dir)) stop("run from the repository root")

read_table <- function(name) {
  z <- read.csv(file.path(data_dir, paste0(name, ".csv")), check.names = FALSE)
  if (name == "simdat") {
    z <- z[, c("R1", "R2", "R3", "R4")]
    z$count <- 1L
    z <- aggregate(count ~ R1 + R2 + R3 + R4, data = z, FUN = sum)
  }
  z
}

# Replace a function inside a package namespace by a wrapper that keeps what it was called with
# and what it returned; returns a function that puts the original back.
hook <- function(pkg, fname, record) {
  ns <- asNamespace(pkg)
  original <- get(fname, envir = ns)
  wrapper <- function(...) {
    value <- original(...)
    record(list(...), value)
    value
  }
  unlockBinding(fname, ns)
  assign(fname, wrapper, envir = ns)
  function() { assign(fname, original, envir = ns); lockBinding(fname, ns) }
}

limits <- function(q) as.list(setNames(unname(q), as.character(alpha)))
mse <- asNamespace("MultipleSystemsEstimation")

# ---- up to 5 lists: MultipleSystemsEstimation, BIC over the top models
run_top_models <- function(z, seed, keep_replicates) {
  boot <- NULL
  jack <- NULL
  undo1 <- hook("MultipleSystemsEstimation", "bootstrapcal", function(a, v) boot <<- v)
  undo2 <- hook("MultipleSystemsEstimation", "jackknifecal", function(a, v) jack <<- v)
  on.exit({ undo1(); undo2() })
  res <- suppressWarnings(MultipleSystemsEstimation::estimate_population(z, method = "auto", nboot = nboot,
                                                                         iseed = seed, alpha = alpha))
  q <- res$BCaquantiles
  ntop <- nrow(q)
  bootest <- mse$.cumulative_bic_estimates(boot$bootabund, boot$bootbic)
  jackest <- mse$.cumulative_bic_estimates(jack$jackabund, jack$jackbic)
  ahat <- mse$.jackknife_ahat(jackest, jack$countsobserved)
  out <- list(seed = seed, bca = limits(q[ntop, ]), bca_ntop1 = limits(q[1, ]),
              ahat = ahat[ntop], ahat_ntop1 = ahat[1],
              n_usable = sum(is.finite(bootest[ntop, ])),
              share_below = mean(bootest[ntop, is.finite(bootest[ntop, ])] < res$popest))
  rep <- NULL
  if (keep_replicates) {
    cells <- MultipleSystemsEstimation::tidy_lists(z, includezerocounts = TRUE)
    models <- rownames(boot$res)
    # rank (1 = best on the data) of the model each replicate chose among all ntop models
    chosen <- apply(boot$bootbic, 2, function(b) if (any(is.finite(b))) which.min(ifelse(is.finite(b), b, Inf)) else NA)
    rep <- list(
      interval = "top_models", seed = seed, ntop = ntop, models = I(models), popest = res$popest,
      patterns = unname(lapply(seq_len(nrow(cells)), function(i) as.integer(cells[i, seq_len(ncol(cells) - 1)]))),
      counts = unname(lapply(seq_len(ncol(boot$bootreplications)), function(j) as.integer(boot$bootreplications[, j]))),
      estimates = unname(bootest[ntop, ]), estimates_ntop1 = unname(bootest[1, ]), chosen_rank = unname(chosen),
      jackknife_counts = I(as.integer(jack$countsobserved)),
      jackknife_estimates = unname(jackest[ntop, ]),
      ahat = ahat[ntop], bca = limits(q[ntop, ])
    )
  }
  list(seed = out, replicates = rep, popest = res$popest, ntop = ntop)
}

# ---- 6 or more lists: SparseMSE, stepwise selection on every replicate
run_stepwise <- function(z, seed, keep_replicates) {
  calls <- list()
  undo <- hook("SparseMSE", "estimatepopulation.0", function(a, v) {
    calls[[length(calls) + 1]] <<- list(counts = as.integer(a[[1]][, ncol(a[[1]])]),
                                        estimate = unname(v$estimate["point est."]))
  })
  on.exit(undo())
  b <- SparseMSE::estimatepopulation(z, nboot = nboot, pthresh = 0.02, iseed = seed, alpha = alpha)
  out <- list(seed = seed, bca = limits(b$BCaquantiles), ahat = b$ahat,
              n_usable = sum(is.finite(b$bootreps)), share_below = mean(b$bootreps < b$popest))
  rep <- NULL
  if (keep_replicates) {
    # call 1: the data; calls 2 .. nboot + 1: the replicates; then one jackknife call per positive cell
    boots <- calls[2:(nboot + 1)]
    jacks <- calls[-(1:(nboot + 1))]
    rep <- list(
      interval = "stepwise", seed = seed, popest = b$popest,
      patterns = unname(lapply(seq_len(nrow(z)), function(i) as.integer(z[i, seq_len(ncol(z) - 1)]))),
      counts = lapply(boots, function(x) x$counts),
      estimates = vapply(boots, function(x) x$estimate, 0.0),
      check_bootreps = max(abs(vapply(boots, function(x) x$estimate, 0.0) - b$bootreps)),
      jackknife_counts = lapply(jacks, function(x) x$counts),
      jackknife_estimates = vapply(jacks, function(x) x$estimate, 0.0),
      ahat = b$ahat, bca = limits(b$BCaquantiles)
    )
  }
  list(seed = out, replicates = rep, popest = b$popest, ntop = 0L)
}

command <- paste("R_LIBS_USER=/tmp/Rlib Rscript benchmarks/r/mse_bootstrap_seeds.R", paste(args, collapse = " "))
reference <- list(
  generated_by = "benchmarks/r/mse_bootstrap_seeds.R",
  command = command,
  r_version = R.version.string,
  packages = list(
    SparseMSE = as.character(packageVersion("SparseMSE")),
    MultipleSystemsEstimation = as.character(packageVersion("MultipleSystemsEstimation")),
    lpSolve = as.character(packageVersion("lpSolve")),
    Rcapture = as.character(packageVersion("Rcapture"))
  ),
  settings = list(nboot = nboot, seeds = I(seeds), alpha = I(alpha), stepwise_pthresh = 0.02,
                  up_to_5_lists = "MultipleSystemsEstimation::estimate_population(method = 'auto', nboot, iseed = seed): BCa over the top models (20 for 4 lists, 100 for 5); bca is the last row (all of them), bca_ntop1 the first (the best model only)",
                  six_or_more_lists = "SparseMSE::estimatepopulation(nboot, pthresh = 0.02, iseed = seed): stepwise selection repeated on every replicate, BCa"),
  tables = list()
)
replicates <- list()

write_out <- function() {
  dir.create(dirname(out_file), showWarnings = FALSE, recursive = TRUE)
  writeLines(toJSON(reference, auto_unbox = TRUE, digits = NA, pretty = TRUE), out_file)
  if (!is.na(replicates_file))
    writeLines(toJSON(c(reference[c("generated_by", "command", "r_version", "packages")], list(tables = replicates)),
                      auto_unbox = TRUE, digits = NA), replicates_file)
}

for (name in tables) {
  z <- read_table(name)
  k <- ncol(z) - 1
  entry <- list(lists = I(names(z)[1:k]), observed = sum(z$count),
                interval = if (k <= 5) "mse_auto_top_models" else "sparsemse_stepwise", seeds = list())
  for (s in seeds) {
    t0 <- proc.time()[["elapsed"]]
    keep <- !is.na(replicates_file) && s == seeds[1]
    r <- if (k <= 5) run_top_models(z, s, keep) else run_stepwise(z, s, keep)
    r$seed$seconds <- round(proc.time()[["elapsed"]] - t0, 1)
    entry$estimate <- r$popest
    entry$ntop <- r$ntop
    entry$seeds[[length(entry$seeds) + 1]] <- r$seed
    if (keep) replicates[[name]] <- r$replicates
    cat(name, " seed ", s, ": ", paste(signif(unlist(r$seed$bca), 6), collapse = " "), " (", r$seed$seconds, " s)\n",
        sep = "")
    reference$tables[[name]] <- entry
    write_out()  # after every seed, so an interrupted run keeps what it has
  }
}
cat("wrote", out_file, "\n")
