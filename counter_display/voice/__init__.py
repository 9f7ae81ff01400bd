"""The offline Vietnamese voice of the hall: what is said (``words``), how it sounds (``engines``,
``audio``) and when (``announcer``: one announcement at a time, in order, never cut off)."""
