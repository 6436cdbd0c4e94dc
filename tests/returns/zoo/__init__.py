"""Layout zoo: departmental returns in the shapes real county offices send, with the values a
person reads off each file. Built independently of the parser (see README.md)."""

from tests.returns.zoo.build import Expected, ZooFile, build_zoo

__all__ = ["Expected", "ZooFile", "build_zoo"]
