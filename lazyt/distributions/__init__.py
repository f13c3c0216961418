"""lt.distributions: torch.distributions' API over lazyt ops (re-exports only)."""

from lazyt.distributions import constraints, kl, transforms, utils
from lazyt.distributions.continuous import (
                                            Cauchy,
                                            Exponential,
                                            HalfNormal,
                                            Laplace,
                                            LogNormal,
                                            Normal,
                                            Uniform,
)
from lazyt.distributions.counts import Binomial, Geometric, Poisson
from lazyt.distributions.discrete import Bernoulli, Categorical, Multinomial, OneHotCategorical
from lazyt.distributions.distribution import Distribution
from lazyt.distributions.extreme_value import Gumbel, HalfCauchy, Pareto, Weibull
from lazyt.distributions.gamma import Beta, Chi2, Dirichlet, Gamma, StudentT
from lazyt.distributions.independent import Independent
from lazyt.distributions.kl import kl_divergence, register_kl
from lazyt.distributions.multivariate_normal import MultivariateNormal
from lazyt.distributions.transformed_distribution import TransformedDistribution
from lazyt.distributions.transforms import (
                                            AffineTransform,
                                            ComposeTransform,
                                            ExpTransform,
                                            IndependentTransform,
                                            PowerTransform,
                                            SigmoidTransform,
                                            SoftplusTransform,
                                            TanhTransform,
                                            Transform,
                                            identity_transform,
)
