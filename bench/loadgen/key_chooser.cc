#include "bench/loadgen/key_chooser.h"

#include <cmath>
#include <numeric>

namespace httpkv::bench {
namespace {

// log1p(x)/x and expm1(x)/x, with series near 0 where the quotient loses precision.
double Log1pOverX(double x) {
  if (std::fabs(x) > 1e-8) return std::log1p(x) / x;
  return 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}
double Expm1OverX(double x) {
  if (std::fabs(x) > 1e-8) return std::expm1(x) / x;
  return 1 + x * 0.5 * (1 + x * (1.0 / 3) * (1 + 0.25 * x));
}

}  // namespace

KeyChooser::KeyChooser(uint64_t keys, double theta) : keys_(keys ? keys : 1), theta_(theta) {
  if (theta_ <= 0) {
    theta_ = 0;
    return;
  }
  // A multiplier near N * golden ratio that is coprime with N gives a bijection.
  mult_ = static_cast<uint64_t>(static_cast<double>(keys_) * 0.6180339887) | 1;
  while (std::gcd(mult_, keys_) != 1) ++mult_;
  mult_ %= keys_;
  if (keys_ == 1) mult_ = 0;
  h_x1_ = H(1.5) - 1;
  h_n_ = H(static_cast<double>(keys_) + 0.5);
  s_ = 2 - HInverse(H(2.5) - h(2));
}

double KeyChooser::h(double x) const {
  return std::exp(-theta_ * std::log(x));
}

double KeyChooser::H(double x) const {
  const double log_x = std::log(x);
  return Expm1OverX((1 - theta_) * log_x) * log_x;
}

double KeyChooser::HInverse(double x) const {
  double t = x * (1 - theta_);
  if (t < -1) t = -1;  // rounding guard
  return std::exp(Log1pOverX(t) * x);
}

uint64_t KeyChooser::SampleRank(Rng& rng) const {
  if (theta_ == 0) return rng.Below(keys_) + 1;
  const double n = static_cast<double>(keys_);
  for (;;) {
    // Invert the integral of the hat function, round to the nearest rank, and accept
    // unless the sample fell in the sliver where hat and true mass differ.
    const double u = h_n_ + rng.Unit() * (h_x1_ - h_n_);
    const double x = HInverse(u);
    double k = std::floor(x + 0.5);
    if (k < 1) k = 1;
    if (k > n) k = n;
    if (k - x <= s_ || u >= H(k + 0.5) - h(k)) return static_cast<uint64_t>(k);
  }
}

}  // namespace httpkv::bench
