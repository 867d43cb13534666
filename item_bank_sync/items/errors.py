"""Why an item was refused: the source file, the element, the problem."""

from __future__ import annotations

from exam_core.errors import InvigilError


class ItemRejected(InvigilError):
    """An item (or a whole input file) cannot be imported as it stands.

    ``element`` names the QTI element or YAML field at fault (for example
    ``choiceInteraction[RESPONSE]`` or ``responseProcessing``) and ``problem`` says what is wrong
    with it, so an author can fix the file without reading importer code.
    """

    def __init__(self, source: str, element: str, problem: str) -> None:
        self.source = source
        self.element = element
        self.problem = problem
        super().__init__(f"{element}: {problem}")

    @property
    def reason(self) -> str:
        return f"{self.element}: {self.problem}"
