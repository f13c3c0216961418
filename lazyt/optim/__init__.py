"""lazyt.optim: PyTorch's optimizers and learning-rate schedulers (re-exports only)."""

from lazyt.optim import lr_scheduler
from lazyt.optim.adagrad import Adagrad
from lazyt.optim.adam import Adam, AdamW
from lazyt.optim.optimizer import Optimizer
from lazyt.optim.rmsprop import RMSprop
from lazyt.optim.sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
