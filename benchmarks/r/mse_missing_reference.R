# Reference figures for the EM with missing covariate values in sandbox/mse/covariates.py, computed by
# CALLING Maarten Cruyff's R package MSEincomplete (github MaartenCruyff/MSEincomplete, commit 1810469,
# version 1.0, MIT): loglinear() with the EM of its method 1 (imp1) on tests/data/mse_cov_simdat_missing.csv
# (simdat with covariate values blanked by the fixed rule of benchmarks/r/make_missing_covariates.py).
#
# Usage (from the repository root; set-up in benchmarks/r/README.md):
#   R_LIBS_USER=/tmp/Rlib Rscript benchmarks/r/mse_missing_reference.R [out.json]
#
# MSEincomplete reads the role of a variable from its name: a name starting with an upper-case letter is
# a list, so the covariates X1, X2, X4 are passed as x1, x2, x4 (and every column as a factor, so that a
# numeric covariate is not taken as a linear term).  The EM is run to tight tolerances (tol = mtol = 1e-10
# instead of 1e-5) from two random starts (seeds 1 and 2) to show the figures do not depend on the start.
#
# MSEincomplete 1.0 asks for R >= 4.4 and calls dplyr::case_when(..., .default = ) (dplyr >= 1.1.0);
# Debian 12 has R 4.2.2 and dplyr 1.0.10.  The DESCRIPTION line was changed to 4.2 in the temporary copy
# that was installed, and on dplyr < 1.1.0 this script gives the package's imports a case_when that
# translates `.default = v` into the old form `TRUE ~ as.double(v)` (the same result).  Nothing else of
# the package is touched.
suppressMessages({
  library(MSEincomplete)
  library(jsonlite)
})

if (utils::packageVersion("dplyr") < "1.1.0") {
  case_when_default <- function(..., .default = NULL) {
    if (is.null(.default)) dplyr::case_when(...) else dplyr::case_when(..., TRUE ~ as.double(.default))
  }
  imports <- parent.env(asNamespace("MSEincomplete"))
  unlockBinding("case_when", imports)
  assign("case_when", case_when_default, envir = imports)
  lockBinding("case_when", imports)
}

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "tests/data/mse_missing_reference.json"

raw <- read.csv("tests/data/mse_cov_simdat_missing.csv", colClasses = "character", na.strings = "")
names(raw) <- c("R1", "R2", "R3", "R4", "x1", "x2", "x4")
raw[] <- lapply(raw, factor)
lists <- c("R1", "R2", "R3", "R4")

cases <- list(
  list(name = "simdat_missing_x1x2_main", covariates = c("x1", "x2"), terms = character(0)),
  list(name = "simdat_missing_x1x2_twoway", covariates = c("x1", "x2"),
       terms = c("R1:x1", "R1:x2", "R3:x1", "R3:x2", "R2:x2", "x1:x2", "R1:R4", "R2:R4")),
  list(name = "simdat_missing_x1x2x4", covariates = c("x1", "x2", "x4"),
       terms = c("R1:x1", "R1:x2", "R3:x2", "R2:x4", "R1:R4", "R2:R4"))
)

fit <- function(case, seed) {
  rhs <- paste(c(lists, case$covariates, case$terms), collapse = " + ")
  loglinear(as.formula(paste("~", rhs)), data = raw[, c(lists, case$covariates)], stderr = "complete",
            seed = seed, printPars = FALSE, control = list(tol = 1e-10, mtol = 1e-10, maxit = 5000))
}

result <- list(
  R = R.version.string,
  MSEincomplete = as.character(packageVersion("MSEincomplete")),
  dplyr = as.character(packageVersion("dplyr")),
  data = "tests/data/mse_cov_simdat_missing.csv",
  control = list(tol = 1e-10, mtol = 1e-10, maxit = 5000, stderr = "complete", seeds = c(1, 2)),
  cases = list()
)

for (case in cases) {
  cat("case", case$name, "\n")
  output <- capture.output(m <- fit(case, 1))
  output2 <- capture.output(m2 <- fit(case, 2))
  pop <- m$dcmp
  fitted <- as.vector(pop$fitted)
  nhat2 <- sum(as.vector(m2$dcmp$fitted))
  hist <- m$hist
  n_missing <- sum(m$dobs$Freq[!complete.cases(m$dobs)])
  by_level <- list()
  for (cv in case$covariates) {
    by_level[[toupper(cv)]] <- lapply(levels(pop[[cv]]), function(l)
      list(level = l, estimate = sum(fitted[pop[[cv]] == l])))
  }
  cells <- lapply(seq_len(nrow(pop)), function(i) {
    row <- lapply(c(lists, case$covariates), function(v) as.character(pop[[v]][i]))
    names(row) <- c(lists, toupper(case$covariates))
    c(row, list(fitted = fitted[i]))
  })
  grab <- function(label) as.numeric(sub(".*= *", "", grep(paste0("^", label), output, value = TRUE)[1]))
  result$cases[[case$name]] <- list(
    lists = lists,
    covariates = toupper(case$covariates),
    terms = gsub("x", "X", case$terms),
    observed = sum(m$dobs$Freq),
    missing_covariate_people = n_missing,
    estimate = sum(fitted),
    estimate_seed2 = nhat2,
    loglik = hist$LL[nrow(hist)],
    loglik_seed2 = m2$hist$LL[nrow(m2$hist)],
    iterations = nrow(hist),
    printed = list(npar = grab("Number of parameters"), df = grab("Degrees of freedom"),
                   deviance = grab("Deviance"), AIC = grab("AIC"), BIC = grab("BIC")),
    params = as.list(setNames(m$pars$b, gsub("x", "X", rownames(m$pars)))),
    by_level = by_level,
    cells = cells
  )
}

writeLines(toJSON(result, auto_unbox = TRUE, digits = NA, pretty = TRUE), out)
cat("wrote", out, "\n")
