"""The .wast script runner and the ``spectest`` host module."""
