# ruff: noqa: E501  (the QTI fixtures are written one element per line, as authoring tools write them)
"""QTI item families (template processing) written for the tests (licence-clean), modelled on the
constructs of 1EdTech's and QTIWorks' template examples: shared by the QTI tests
(tests/central/items) and the form-build tests (tests/central/forms)."""

from __future__ import annotations

from item_bank_sync.items.errors import ItemRejected

QTI22 = "http://www.imsglobal.org/xsd/imsqti_v2p2"
QTI3 = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
MATHML = "http://www.w3.org/1998/Math/MathML"


def family22(processing: str, body: str = "", declarations: str = "", rp: str = "") -> bytes:
    """A QTI 2.2 family: A in 2..20, the key A times 3 unless ``processing`` says otherwise."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{QTI22}" identifier="triple" title="Triple it" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="integer">
    <correctResponse><value>0</value></correctResponse>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <templateDeclaration identifier="A" cardinality="single" baseType="integer" mathVariable="true"/>
  <templateDeclaration identifier="R" cardinality="single" baseType="float"/>
  {declarations}
  <templateProcessing>{processing or '''
    <setTemplateValue identifier="A"><randomInteger min="2" max="20"/></setTemplateValue>
    <setCorrectResponse identifier="RESPONSE"><product><variable identifier="A"/><baseValue baseType="integer">3</baseValue></product></setCorrectResponse>'''}
  </templateProcessing>
  <itemBody>
    <p>What is <math xmlns="{MATHML}"><mn>3</mn><mo>&#215;</mo><mi>A</mi></math>, that is 3 times <printedVariable identifier="A"/>?</p>
    {body}
    <p><textEntryInteraction responseIdentifier="RESPONSE" expectedLength="3"/></p>
  </itemBody>
  {rp or '<responseProcessing template="http://www.imsglobal.org/question/qti_v2p2/rptemplates/match_correct"/>'}
</assessmentItem>""".encode()


FAMILY = family22("")

FAMILY3 = f"""<?xml version="1.0" encoding="UTF-8"?>
<qti-assessment-item xmlns="{QTI3}" identifier="resistor" title="Ohm's law" adaptive="false" time-dependent="false">
  <qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="identifier">
    <qti-correct-response><qti-value>WRONG</qti-value></qti-correct-response>
  </qti-response-declaration>
  <qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>
  <qti-template-declaration identifier="V" cardinality="single" base-type="integer" math-variable="true"/>
  <qti-template-declaration identifier="I" cardinality="single" base-type="float"/>
  <qti-template-declaration identifier="WHICH" cardinality="single" base-type="identifier"/>
  <qti-template-processing>
    <qti-set-template-value identifier="V"><qti-random-integer min="6" max="24" step="6"/></qti-set-template-value>
    <qti-set-template-value identifier="I"><qti-divide><qti-variable identifier="V"/><qti-base-value base-type="integer">4</qti-base-value></qti-divide></qti-set-template-value>
    <qti-template-condition>
      <qti-template-if><qti-gt><qti-variable identifier="V"/><qti-base-value base-type="integer">12</qti-base-value></qti-gt>
        <qti-set-template-value identifier="WHICH"><qti-base-value base-type="identifier">HIGH</qti-base-value></qti-set-template-value>
      </qti-template-if>
      <qti-template-else>
        <qti-set-template-value identifier="WHICH"><qti-base-value base-type="identifier">LOW</qti-base-value></qti-set-template-value>
      </qti-template-else>
    </qti-template-condition>
    <qti-set-correct-response identifier="RESPONSE"><qti-variable identifier="WHICH"/></qti-set-correct-response>
  </qti-template-processing>
  <qti-item-body>
    <p>A 4 ohm resistor carries <qti-printed-variable identifier="I" format="%.2f"/> A at <math xmlns="{MATHML}"><mi>V</mi></math> V.
      <qti-template-inline template-identifier="WHICH" identifier="HIGH" show-hide="show">That is a lot.</qti-template-inline></p>
    <qti-choice-interaction response-identifier="RESPONSE" max-choices="1">
      <qti-prompt>Is the voltage above 12 V?</qti-prompt>
      <qti-simple-choice identifier="HIGH">Yes</qti-simple-choice>
      <qti-simple-choice identifier="LOW">No</qti-simple-choice>
    </qti-choice-interaction>
  </qti-item-body>
  <qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml"/>
</qti-assessment-item>""".encode()


def no_media(src: str, element: str) -> bytes:
    raise ItemRejected("test", element, f"no media {src}")




#: A human-marked family: the voltage in the question is drawn; markers must see the candidate's one.
ESSAY_FAMILY = f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{QTI22}" identifier="essay-fam" title="Explain earthing" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="string"/>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float" normalMaximum="4"/>
  <templateDeclaration identifier="V" cardinality="single" baseType="integer"/>
  <templateProcessing><setTemplateValue identifier="V"><randomInteger min="100" max="999"/></setTemplateValue></templateProcessing>
  <itemBody>
    <p>Explain why a <printedVariable identifier="V"/> V supply needs earthing.</p>
    <extendedTextInteraction responseIdentifier="RESPONSE"/>
    <rubricBlock view="scorer"><p>Full marks name the <printedVariable identifier="V"/> V fault path.</p></rubricBlock>
  </itemBody>
</assessmentItem>""".encode()


def choice_family(correct: str = "RIGHT", extra_choice: str = "") -> bytes:
    """A QTI 2.2 family whose correct choice is drawn at random among fixed identifiers (``RIGHT``
    from ``random(multiple(A, B, C))``): each choice names a city, the question names the right
    one's country; ``correct`` is the variable set as the correct response."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{QTI22}" identifier="capital" title="Capitals" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>A</value></correctResponse>
  </responseDeclaration>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <templateDeclaration identifier="RIGHT" cardinality="single" baseType="identifier"/>
  <templateDeclaration identifier="OTHER" cardinality="single" baseType="identifier"/>
  <templateProcessing>
    <setTemplateValue identifier="RIGHT"><random><multiple><baseValue baseType="identifier">A</baseValue><baseValue baseType="identifier">B</baseValue><baseValue baseType="identifier">C</baseValue></multiple></random></setTemplateValue>
    <setTemplateValue identifier="OTHER"><baseValue baseType="identifier">D</baseValue></setTemplateValue>
    <setCorrectResponse identifier="RESPONSE"><variable identifier="{correct}"/></setCorrectResponse>
  </templateProcessing>
  <itemBody>
    <p>What is the capital of <templateInline templateIdentifier="RIGHT" identifier="A" showHide="show">France</templateInline><templateInline templateIdentifier="RIGHT" identifier="B" showHide="show">Italy</templateInline><templateInline templateIdentifier="RIGHT" identifier="C" showHide="show">Spain</templateInline>?</p>
    <choiceInteraction responseIdentifier="RESPONSE" maxChoices="1" shuffle="false">
      <simpleChoice identifier="A">Paris</simpleChoice>
      <simpleChoice identifier="B">Rome</simpleChoice>
      <simpleChoice identifier="C">Madrid</simpleChoice>
      {extra_choice}
    </choiceInteraction>
  </itemBody>
  <responseProcessing template="http://www.imsglobal.org/question/qti_v2p2/rptemplates/match_correct"/>
</assessmentItem>""".encode()


#: The triple family scored by a mapping drawn with it: the mapKey is the computed answer
#: (``{ANS}``), its mappedValue a computed weight (``{PTS}``); a zero answer costs a point.
MAPPED_FAMILY = family22(
    """
    <setTemplateValue identifier="A"><randomInteger min="2" max="20"/></setTemplateValue>
    <setTemplateValue identifier="ANS"><product><variable identifier="A"/><baseValue baseType="integer">3</baseValue></product></setTemplateValue>
    <setTemplateValue identifier="PTS"><divide><baseValue baseType="integer">5</baseValue><baseValue baseType="integer">2</baseValue></divide></setTemplateValue>""",
    declarations='<templateDeclaration identifier="ANS" cardinality="single" baseType="integer"/>'
                 '<templateDeclaration identifier="PTS" cardinality="single" baseType="float"/>',
    rp='<responseProcessing template="http://www.imsglobal.org/question/qti_v2p2/rptemplates/map_response"/>',
).replace(b'<correctResponse><value>0</value></correctResponse>',
          b'<mapping defaultValue="0" lowerBound="0"><mapEntry mapKey="{ANS}" mappedValue="{PTS}"/>'
          b'<mapEntry mapKey="0" mappedValue="-1"/></mapping>')


#: The classic numeric family (QTIWorks' MathAssess style): A and B drawn, the key A*B computed
#: and printed with its format; accepted within 1 % (``equal`` relative), worth 2 points.
PRODUCT_FAMILY = f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{QTI22}" identifier="product" title="Power of a heater" adaptive="false" timeDependent="false">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="float"/>
  <outcomeDeclaration identifier="SCORE" cardinality="single" baseType="float"/>
  <templateDeclaration identifier="V" cardinality="single" baseType="integer"/>
  <templateDeclaration identifier="I" cardinality="single" baseType="float"/>
  <templateDeclaration identifier="TOL" cardinality="single" baseType="float"/>
  <templateProcessing>
    <setTemplateValue identifier="V"><randomInteger min="110" max="240" step="10"/></setTemplateValue>
    <setTemplateValue identifier="I"><roundTo roundingMode="decimalPlaces" figures="1"><randomFloat min="1.5" max="9.5"/></roundTo></setTemplateValue>
    <setTemplateValue identifier="TOL"><baseValue baseType="float">1</baseValue></setTemplateValue>
    <setCorrectResponse identifier="RESPONSE"><product><variable identifier="V"/><variable identifier="I"/></product></setCorrectResponse>
  </templateProcessing>
  <itemBody>
    <p>A heater draws <printedVariable identifier="I" format="%.1f"/> A from a <printedVariable identifier="V"/> V supply. What is its power in watts?</p>
    <p><textEntryInteraction responseIdentifier="RESPONSE" expectedLength="8"/></p>
  </itemBody>
  <responseProcessing>
    <responseCondition>
      <responseIf>
        <equal toleranceMode="relative" tolerance="{{TOL}}"><variable identifier="RESPONSE"/><correct identifier="RESPONSE"/></equal>
        <setOutcomeValue identifier="SCORE"><baseValue baseType="float">2</baseValue></setOutcomeValue>
      </responseIf>
      <responseElse><setOutcomeValue identifier="SCORE"><baseValue baseType="float">0</baseValue></setOutcomeValue></responseElse>
    </responseCondition>
  </responseProcessing>
</assessmentItem>""".encode()
