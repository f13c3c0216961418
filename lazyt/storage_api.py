"""t.storage() / t.untyped_storage(): the user's view of a flat Storage."""

from __future__ import annotations

from lazyt.ir.view import View
from lazyt.runtime.storage import Storage
from lazyt.tensor import Tensor


class TypedStorage:
    """The flat elements behind a tensor, as torch.TypedStorage shows them."""

    def __init__(self, storage: Storage):
        self._storage = storage

    @property
    def dtype(self):
        return self._storage.dtype

    @property
    def device(self):
        return self._storage.device

    def size(self) -> int:
        return len(self._storage)

    def __len__(self) -> int:
        return len(self._storage)

    def _tensor(self) -> Tensor:
        return Tensor._make(self._storage, View.contiguous((len(self._storage),)))

    def tolist(self) -> list:
        return self._tensor().tolist()

    def __iter__(self):
        return iter(self.tolist())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self.tolist()[index]
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"index {index} out of range for storage of size {n}")
        return self._tensor()[index].item()

    def __setitem__(self, index, value) -> None:
        self._tensor()[index] = value

    def data_ptr(self) -> int:
        return self._storage.address

    def element_size(self) -> int:
        return self._storage.dtype.itemsize

    def nbytes(self) -> int:
        return self._storage.nbytes()

    def untyped(self) -> UntypedStorage:
        return UntypedStorage(self._storage)

    def __eq__(self, other) -> bool:
        return isinstance(other, TypedStorage) and other._storage is self._storage

    def __hash__(self) -> int:
        return id(self._storage)

    def __repr__(self) -> str:
        from lazyt.printing import format_storage  # (loaded with the first repr)

        return format_storage(self._tensor()._readable_array(), dtype=self.dtype.name,
                              device=str(self.device))

    __str__ = __repr__


class UntypedStorage:
    """The same memory seen as bytes (size in bytes, like torch.UntypedStorage)."""

    def __init__(self, storage: Storage):
        self._storage = storage

    def size(self) -> int:
        return self._storage.nbytes()

    def __len__(self) -> int:
        return self._storage.nbytes()

    def nbytes(self) -> int:
        return self._storage.nbytes()

    def data_ptr(self) -> int:
        return self._storage.address

    @property
    def device(self):
        return self._storage.device

    def __eq__(self, other) -> bool:
        return isinstance(other, UntypedStorage) and other._storage is self._storage

    def __hash__(self) -> int:
        return id(self._storage)


def _storage(self) -> TypedStorage:
    return TypedStorage(self._storage)


def _untyped_storage(self) -> UntypedStorage:
    return UntypedStorage(self._storage)


TENSOR_METHODS = {"storage": _storage, "untyped_storage": _untyped_storage}
