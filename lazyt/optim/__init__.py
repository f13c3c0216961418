"""lazyt.optim: PyTorch's optimizers and learning-rate schedulers (re-exports only)."""

from lazyt.optim import lr_scheduler, swa_utils
from lazyt.optim.adadelta import Adadelta
from lazyt.optim.adafactor import Adafactor
from lazyt.optim.adagrad import Adagrad
from lazyt.optim.adam import Adam, AdamW
from lazyt.optim.adamax import Adamax
from lazyt.optim.asgd import ASGD
from lazyt.optim.lbfgs import LBFGS
from lazyt.optim.muon import Muon
from lazyt.optim.nadam import NAdam
from lazyt.optim.optimizer import Optimizer
from lazyt.optim.radam import RAdam
from lazyt.optim.rmsprop import RMSprop
from lazyt.optim.rprop import Rprop
from lazyt.optim.sgd import SGD
from lazyt.optim.sparse_adam import SparseAdam

__all__ = ["ASGD", "SGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "LBFGS",
           "Muon",
           "NAdam", "Optimizer", "RAdam", "RMSprop", "Rprop", "SparseAdam", "lr_scheduler",
           "swa_utils"]
