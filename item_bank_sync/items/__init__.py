"""Items as they come in: QTI 2.1/2.2/3.0 and native YAML files, folders and content packages.

Everything here reads or writes item *files* and checks them at the boundary (safe XML and YAML,
sanitised bodies, real images, supported scoring). Nothing here writes to the bank:
:mod:`item_bank_sync.bank.import_run` (one import run and its report) hands what
:mod:`~item_bank_sync.items.importer` accepts to the bank's store.
"""
