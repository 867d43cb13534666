"""QTI: safe XML and its namespaces (``xml``), item bodies (``body``), response processing
(``responses``), reading an item (``reader``) and writing one as QTI 3.0 (``writer``)."""
