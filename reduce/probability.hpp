#pragma once
// The distribution functions and p-value combinations the evidence rests on.
#include <cstddef>
#include <span>
#include <vector>

namespace lineage {

// P(Z > z) for Z ~ N(0, 1), accurate far into the tail (it underflows to 0 past z ≈ 38).
double normal_upper_tail(double z) noexcept;
// ln P(Z > z), finite for every finite z.
double log_normal_upper_tail(double z) noexcept;

// P(X > x) for X ~ χ² with 2k degrees of freedom (the null law of Fisher's statistic over k
// p-values), accurate where it underflows to tiny values.
double chi_square_upper_tail_even(double x, std::size_t k) noexcept;

// P(X > y) for the standard Landau law (stable, α = 1, β = 1, scale π/2, location 0 in the
// Samorodnitsky–Taqqu form), by quadrature of its Laplace-integral representation.
double landau_upper_tail(double y) noexcept;

struct combined_p {
  double statistic = 0;  // Fisher: −2 Σ ln p; harmonic mean: the HMP itself
  double p = 1;
};

// Fisher's method (valid for independent p-values).
combined_p fisher_combination(std::span<const double> p_values) noexcept;

// The harmonic mean p-value (HMP) with equal weights and its p-value, robust to dependence between
// the p-values (Wilson 2019). For more than 64 p-values: the asymptotic law, 1/HMP ≈ Landau with
// location ln L + 1 − γ in the form above (ln L + 0.874 in the S0 form). For up to 64: the null law
// of the HMP of L independent uniforms, simulated once per L with a fixed seed (10⁵ draws), and the
// Landau tail below p = 10⁻³, where the simulation is coarse.
combined_p harmonic_mean_combination(std::span<const double> p_values);

// Holm's step-down adjustment with Šidák's per-step correction: adjusted p-values in input
// order. The smallest adjusted value, 1 − (1 − p_min)^m, is exactly uniform for independent null
// p-values (the global p of the verdict).
std::vector<double> holm_sidak(std::span<const double> p_values);

// 1 − (1 − p)^m without cancellation.
double sidak(double p, double m) noexcept;

// Kolmogorov–Smirnov test of `samples` against Uniform(0, 1): the statistic D and its asymptotic
// p-value (Kolmogorov's distribution with Stephens' small-sample correction).
combined_p kolmogorov_smirnov_uniform(std::vector<double> samples);

}  // namespace lineage
