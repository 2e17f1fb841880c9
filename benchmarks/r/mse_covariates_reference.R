# Reference figures for sandbox/mse/covariates.py, computed with Maarten Cruyff's R package mse
# (github MaartenCruyff/mse, commit 7b3e06c, version 1.0): model_search() with the default
# min_model Freq ~ . and max_model Freq ~ .^2 (stepwise BIC, then AIC, then k = 1).
#
# Usage (from the repository root; set-up in benchmarks/r/README.md):
#   R_LIBS_USER=/tmp/Rlib Rscript benchmarks/r/mse_covariates_reference.R [out.json]
#
# For every case the JSON holds the search path as model_search prints it (rounded to 0.1 and with
# AIC, AICc, BIC relative to their minima) and, refitted here with glm() on the same observed cells,
# the unrounded residual df, deviance, AIC, BIC and N-hat of every model on the path, the terms of
# the model with minimal BIC, and N-hat per covariate level of that model.
suppressMessages({
  library(mse)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "tests/data/mse_covariates_reference.json"

simdat <- read.csv("sandbox/mse/data/simdat.csv")
synth <- read.csv("tests/data/mse_cov_nl_baseline_seed7.csv")
cases <- list(
  list(name = "simdat_X1X2X3", data = simdat[, c("R1", "R2", "R3", "R4", "X1", "X2", "X3")], nlists = 4),
  list(name = "simdat_X1X4", data = simdat[, c("R1", "R2", "R3", "R4", "X1", "X4")], nlists = 4),
  list(name = "simdat_X1X2X3X4", data = simdat[, c("R1", "R2", "R3", "R4", "X1", "X2", "X3", "X4")], nlists = 4),
  list(name = "nl_baseline_seed7", data = synth[, c("police", "kmar", "nla", "care_coordination", "shelters",
                                                    "fairwork", "form")], nlists = 6)
)

terms_of <- function(f) attr(terms(f), "term.labels")

result <- list(
  R = R.version.string,
  mse = as.character(packageVersion("mse")),
  cases = list()
)

for (case in cases) {
  cat("case", case$name, "\n")
  s <- model_search(case$data, lists = 1:case$nlists)
  xall <- s$d
  xobs <- xall[s$obs, ]
  n <- sum(xall$Freq)
  path <- list()
  for (j in seq_along(s$formulas)) {
    m <- glm(s$formulas[[j]], poisson, data = xobs)
    nhat <- sum(predict(m, newdata = xall, type = "response"))
    path[[j]] <- list(
      step = trimws(as.character(s$models$Step[j])),
      terms = terms_of(s$formulas[[j]])[grepl(":", terms_of(s$formulas[[j]]))],
      df = m$df.residual,
      deviance = m$deviance,
      AIC = extractAIC(m, k = 2)[2],
      BIC = extractAIC(m, k = log(n))[2],
      estimate = nhat,
      printed = list(AIC = s$models$AIC[j], AICc = s$models$AICc[j], BIC = s$models$BIC[j],
                     Nhat = s$models$Nhat[j])
    )
  }
  best <- which.min(s$models$BIC)
  m <- glm(s$formulas[[best]], poisson, data = xobs)
  fitted <- predict(m, newdata = xall, type = "response")
  covs <- setdiff(colnames(xall), c(colnames(xall)[1:case$nlists], "Freq"))
  by_level <- list()
  for (cv in covs) {
    lev <- levels(xall[[cv]])
    by_level[[cv]] <- lapply(lev, function(l) list(level = l, observed = sum(xall$Freq[xall[[cv]] == l]),
                                                   estimate = sum(fitted[xall[[cv]] == l])))
  }
  result$cases[[case$name]] <- list(
    lists = colnames(xall)[1:case$nlists],
    covariates = covs,
    observed = n,
    minima = as.list(s$minima),
    chosen = best,
    terms = path[[best]]$terms,
    estimate = sum(fitted),
    by_level = by_level,
    path = path
  )
}

# Parametric bootstrap of the chosen simdat model (boot_mse, 200 replicates, seed 1): random,
# compared loosely.
s <- model_search(cases[[1]]$data, lists = 1:4)
b <- boot_mse(s, rep = 200, seed = 1)
result$bootstrap <- list(case = "simdat_X1X2X3", rep = 200, seed = 1,
                         all = as.list(b$x[1, ]),
                         X1 = lapply(seq_len(nrow(b$X1)), function(i) c(level = rownames(b$X1)[i], as.list(b$X1[i, ]))))

writeLines(toJSON(result, auto_unbox = TRUE, digits = NA, pretty = TRUE), out)
cat("wrote", out, "\n")
