"""Store objects, instantiation, linking and the call boundary (spec exec/runtime.rst,
exec/modules.rst). The contracts with the compiler are in docs/INTERNALS.md."""
from .call import DEFAULT_MAX_CALL_DEPTH, HostError, in_guest, invoke
from .instances import MAX_PAGES, MAX_PAGES_64, MAX_TABLE_32, MAX_TABLE_64, PAGE_SIZE, \
    FuncInstance, GlobalInstance, MemoryInstance, ModuleInstance, TableInstance, TagInstance
from .instantiate import Store, check_import, eval_const, import_matches, instantiate, \
    limits_match
from .traps import GENERATED_CODE, FrameSource, trap_from_exception, wasm_backtrace
from .values import default_value, f32_from_bits, f32_to_bits, f32_value, f64_from_bits, \
    f64_to_bits, module_type_ids, type_id

__all__ = [
    "DEFAULT_MAX_CALL_DEPTH", "HostError", "in_guest", "invoke",
    "MAX_PAGES", "MAX_PAGES_64", "MAX_TABLE_32", "MAX_TABLE_64", "PAGE_SIZE",
    "FuncInstance", "GlobalInstance", "MemoryInstance",
    "ModuleInstance", "TableInstance", "TagInstance",
    "Store", "check_import", "eval_const", "import_matches", "instantiate", "limits_match",
    "GENERATED_CODE", "FrameSource", "trap_from_exception", "wasm_backtrace",
    "default_value", "f32_from_bits", "f32_to_bits", "f32_value", "f64_from_bits",
    "f64_to_bits", "type_id", "module_type_ids",
]
