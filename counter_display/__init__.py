"""LED counter displays and calling keypads on RS-485: codecs, drivers and their errors.

Sans-IO codecs: ``modbus_rtu`` (Modbus RTU numeric displays), ``caller_bus`` (FF 68 … 16 calling
keypad frames), ``seven_segment`` (digit glyphs). Drivers over a ``transport`` link:
``led_display.ModbusLedDisplay`` and ``keypad.CallerBusKeypad``. Errors: ``errors``.
"""
