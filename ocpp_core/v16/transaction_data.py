"""StopTransaction's ``transactionData`` (OCPP 1.6 §3.16, errata 3.14 and 3.89): how many
values it keeps (``ocpp_core.tx_data.TransactionData`` collects them, per connector).

A transaction collects its Transaction.Begin sample, its clock-aligned (StopTxnAlignedData) and
periodic (StopTxnSampledData) samples and finally its Transaction.End sample. At most
MAX_METER_VALUES are kept (announced as StopTransactionMaxMeterValues), the first and the newest
never dropped. MicroOcpp keeps 4 and overwrites the last one; 10 keeps a useful curve while a
StopTransaction stays a few kB. With StopTxnSampledData and StopTxnAlignedData empty (the
defaults) nothing is collected and nothing is written.
"""

from __future__ import annotations

__all__ = ["MAX_METER_VALUES"]

MAX_METER_VALUES = 10
