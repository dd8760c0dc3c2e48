"""The lexical grader against labelled cases: what a careful human grader says under SimpleQA's policy.

Questions and golds follow the demo handbook suite (Kestrel Labs); golds == [] is an unanswerable item."""

import pytest

from adapt.eval.metrics import JUDGE_PROMPT, grade, is_abstention, judge_gold, parse_judge

LEAVE = "How many days of paid vacation do full-time employees get per year?"
LEAVE_GOLD = ["27", "27 days"]
CARRY = "How many unused vacation days can be carried over into the next year?"
CARRY_GOLD = ["5", "5 days", "up to 5"]
HEAD_OFFICE = "In which city is the head office of Kestrel Labs?"
INTERNS = "How many days of paid vacation do interns get?"
CFO = "Who is the chief financial officer of Kestrel Labs?"
PENSION = "Does Kestrel Labs match pension contributions?"
PARENTAL = "How many weeks of parental leave does Kestrel Labs pay?"
SIDE_FACT = "I can't answer from the documents, but requests go through the HR portal"
DOGS = "May employees bring their dogs to the Porto office on Fridays?"

CASES = [
    # --- from the bug report
    ("How many days of annual leave do employees get?", ["25 days"],
     "15, 20, 25 or 30 days depending on seniority", "incorrect"),
    (HEAD_OFFICE, ["Porto"], "It is not Porto but Lisbon.", "incorrect"),
    ("How often are laptops replaced?", ["every four years", "four years"], "every two years", "incorrect"),
    ("On which days do teams meet in the office?", ["Tuesdays and Thursdays"], "Tuesdays and Fridays", "incorrect"),
    ("How much does the Vinewatch station weigh?", ["1.8 kilograms", "1.8 kg"], "18 kg", "incorrect"),
    (HEAD_OFFICE, ["Porto"], "I have no idea.", "abstained"),
    (HEAD_OFFICE, ["Porto"], "The passages don't contain that.", "abstained"),
    (HEAD_OFFICE, ["Porto"], "N/A", "abstained"),
    (CFO, [], "The CFO is Maria Silva, but I'm not sure.", "incorrect"),
    (PENSION, [], "No, Kestrel Labs does not provide pension matching.", "incorrect"),
    ("How long can an unpaid sabbatical last?", ["up to three months", "three months", "3 months"],
     "three months", "correct"),
    ("How long can an unpaid sabbatical last?", ["3 months"], "three months", "correct"),
    ("Which app is used to submit expenses?", ["Expensify"], "I believe it's Expensify, but check with finance",
     "correct"),
    (PARENTAL, ["20", "20 weeks"], SIDE_FACT, "abstained"),
    (PENSION, [], SIDE_FACT, "abstained"),
    (INTERNS, [], "Interns get 27 days. This is not mentioned in the passages.", "incorrect"),
    (INTERNS, ["25 days"], "Interns get 27 days. This is not mentioned in the passages.", "incorrect"),
    # debatable, decided by the policy: the answer disowns its own claim ("not in the passages") although
    # the passages do hold the gold, so the claim is ungrounded
    (INTERNS, ["27 days"], "Interns get 27 days. This is not mentioned in the passages.", "incorrect"),
    # --- numbers: words, digits, separators, decimals, units, lists
    (LEAVE, LEAVE_GOLD, "Full-time employees get twenty-seven days of paid vacation per year.", "correct"),
    (LEAVE, LEAVE_GOLD, "27 days, accrued over 12 months [2].", "correct"),
    (LEAVE, LEAVE_GOLD, "Full-time employees get 25 days of paid vacation.", "incorrect"),
    (LEAVE, LEAVE_GOLD, "Full-time employees get 27 days, not 25 as in earlier years.", "correct"),
    (LEAVE, LEAVE_GOLD, "It might be 27 days, but please double-check with HR.", "correct"),
    (CARRY, CARRY_GOLD, "You can carry over no more than five unused days.", "correct"),
    (CARRY, CARRY_GOLD, "Between 3 and 5 days can be carried over.", "incorrect"),
    ("How large is the yearly learning budget?", ["1,200 euros", "1,200", "1200 euros"],
     "The learning budget is 1200 euros per year [1, 2].", "correct"),
    ("How large is the yearly learning budget?", ["1,200 euros", "1,200", "1200 euros"],
     "Each employee has €600 a year for courses.", "incorrect"),
    ("How much is mileage reimbursed per kilometre?", ["0.36 euros", "0.36"],
     "Mileage is reimbursed at €0.36 per km.", "correct"),
    ("How much is mileage reimbursed per kilometre?", ["0.36 euros", "0.36"],
     "Mileage is reimbursed at 0.63 euros per kilometre.", "incorrect"),
    ("How much does the Vinewatch station weigh?", ["1.8 kilograms", "1.8 kg"],
     "The station weighs 1.8 kg, battery included [3].", "correct"),
    ("Within how long does the security team answer incident reports?", ["one hour", "within one hour"],
     "The security team answers incident reports within 60 minutes.", "correct"),
    ("For how many days per year may employees work from another country?", ["30", "30 days"],
     "Up to 30 days per year; a stay of more than 30 days needs approval.", "correct"),
    ("How many reviewers must approve a change before it is merged?", ["two", "at least two", "2"],
     "At least 2 reviewers must approve it, and at least one of them must own the code.", "correct"),
    # --- ordinals, dates, times, weekdays, months, years
    ("From which day of sick leave is a doctor's note needed?", ["fourth", "the fourth consecutive day"],
     "A doctor's note is needed from the 4th consecutive day of sick leave.", "correct"),
    ("From which day of sick leave is a doctor's note needed?", ["fourth", "the fourth consecutive day"],
     "From the third day.", "incorrect"),
    ("By what date must vacation days carried over from the previous year be taken?", ["March 31", "31 March"],
     "Carried-over days must be used by 31st March.", "correct"),
    ("By what date must vacation days carried over from the previous year be taken?", ["March 31", "31 March"],
     "By March 15.", "incorrect"),
    ("Besides public holidays, on which date is the whole company closed?", ["December 24", "24 December"],
     "The company closes on December 24 and December 31.", "incorrect"),
    ("At what time should a new employee arrive on their first day?", ["09:30", "9:30"],
     "Please arrive at 9:30 a.m. on your first day.", "correct"),
    ("At what time should a new employee arrive on their first day?", ["09:30", "9:30"],
     "Arrive at 9 am sharp.", "incorrect"),
    ("Between which hours are taxis reimbursed?", ["between 22:00 and 06:00", "22:00 to 06:00"],
     "Taxis are reimbursed between 10 pm and 6 am.", "correct"),
    ("On which weekday is the all-hands meeting held?", ["Friday", "Fridays"],
     "The all-hands is held every Friday afternoon in the canteen.", "correct"),
    ("On which weekday is the all-hands meeting held?", ["Friday", "Fridays"],
     "It happens on Mondays or Fridays.", "incorrect"),
    ("On which weekday is the all-hands meeting held?", ["Friday", "Fridays"],
     "The all-hands is not held on Fridays.", "incorrect"),
    ("In which months does the security team run its tabletop exercises?", ["March and October"],
     "In March and in October.", "correct"),
    ("In which months does the security team run its tabletop exercises?", ["March and October"],
     "In March and November.", "incorrect"),
    ("In what year was Kestrel Labs founded?", ["2016"],
     "Kestrel Labs was founded in 2016 by Ana Okafor and Tomas Lind.", "correct"),
    ("In what year was Kestrel Labs founded?", ["2016"], "It was founded in 2015.", "incorrect"),
    # --- names
    (HEAD_OFFICE, ["Porto"], "The head office is in Porto, Portugal.", "correct"),
    (HEAD_OFFICE, ["Porto"], "Not in Lisbon: the head office is in Porto.", "correct"),
    (HEAD_OFFICE, ["Porto"], "The head office is in Porto. " + "It also hosts the hardware lab and the canteen. " * 8,
     "correct"),
    ("Which insurer provides the private health insurance?", ["Medivale"],
     "Either Medivale or Allianz, depending on your plan.", "incorrect"),
    ("Which insurer provides the private health insurance?", ["Medivale"],
     "Private health insurance is provided by Medivale; it covers your partner and children too.", "correct"),
    ("Who is the chief technology officer of Kestrel Labs?", ["Tomas Lind"], "Ana Okafor and Tomas Lind.",
     "incorrect"),
    ("Who founded Kestrel Labs?", ["Ana Okafor and Tomas Lind"], "Ana Okafor and Tomas Lind founded it in 2016.",
     "correct"),
    ("Who runs payroll?", ["Inês Moreira", "Ines Moreira"], "Payroll is run by Ines Moreira [3].", "correct"),
    ("Who is the head of security?", ["Marta Silva"], "Maria Silva is the head of security.", "incorrect"),
    ("Which app is used to submit expenses?", ["Ledgerly"],
     "Expenses are submitted in the Ledgerly app within 30 days of the trip.", "correct"),
    ("Which app is used to submit expenses?", ["Ledgerly"], "Expenses are not submitted in Ledgerly but by email.",
     "incorrect"),
    ("Where is the company's own test vineyard?", ["in the Douro valley", "Douro valley", "Douro"],
     "The test vineyard is in the Douro valley, east of Porto.", "correct"),
    (HEAD_OFFICE, ["Porto"], "Porto. Or maybe Lisbon.", "incorrect"),
    ("Who is the head of security?", ["Marta Silva"], "Marta Silva or Rui Teixeira.", "incorrect"),
    ("Which app is used to submit expenses?", ["Ledgerly"], "Ledgerly (not Expensify).", "correct"),
    ("What is the street address of the head office?", ["Rua das Flores 82"], "Rua das Flores 82, Porto.", "correct"),
    ("What IP rating does the Vinewatch station housing have?", ["IP67"], "The housing is rated IP68.", "incorrect"),
    ("What is the name of the HR portal?", ["Heron"], "I'm not sure what the HR portal is called.", "abstained"),
    # --- side facts in their own sentence are not candidates
    ("How often are laptops replaced?", ["every four years", "four years"],
     "Every four years; phones every two years.", "correct"),
    ("How often are laptops replaced?", ["every four years", "four years"], "Every 48 months.", "correct"),
    ("On which floor is the canteen in the Porto office?", ["third floor", "the third floor", "third"],
     "It's on the second floor.", "incorrect"),
    # --- golds without values
    ("Who must approve a stay abroad of more than 30 days?", ["the legal team", "legal team"],
     "A stay of more than 30 days needs the approval of the legal team.", "correct"),
    ("Who must approve a stay abroad of more than 30 days?", ["the legal team", "legal team"],
     "Your manager must approve it.", "incorrect"),
    ("How are vineyard rows that were recently sprayed marked?", ["with a red flag", "red flag"],
     "They are marked with a yellow flag.", "incorrect"),
    # a gold that is itself negative is not "negated" by repeating it; its words must come in its order
    ("What is commonly believed to be the value relationship between P and co-NP?", ["not equal"],
     "They are believed to be not equal.", "correct"),
    ("How is packet mode communication implemented?", ["with or without intermediate forwarding nodes"],
     "By intermediate network nodes that buffer packets, which are then forwarded.", "incorrect"),
    # --- yes/no golds
    (DOGS, ["Yes"], "Yes, dogs are welcome on Fridays.", "correct"),
    (DOGS, ["Yes"], "Dogs are allowed at the Porto office on Fridays.", "correct"),
    (DOGS, ["Yes"], "No, dogs are not allowed in the office.", "incorrect"),
    (DOGS, ["Yes"], "I'm not sure.", "abstained"),
    # --- declines on answerable items
    (PARENTAL, ["20", "20 weeks"], "", "abstained"),
    (PARENTAL, ["20", "20 weeks"], "I don't know based on the provided information.", "abstained"),
    (PARENTAL, ["20", "20 weeks"], "The documents do not say how many weeks of parental leave are paid.",
     "abstained"),
    # --- unanswerable items: any asserted answer is incorrect, declining is abstained
    (INTERNS, [], "Probably 25 days, like full-time staff.", "incorrect"),
    (INTERNS, [], "According to the handbook, interns get 25 days.", "incorrect"),
    (INTERNS, [], "The passages only cover full-time employees; interns are not mentioned.", "abstained"),
    (CFO, [], "I couldn't find the CFO in the documents.", "abstained"),
    (CFO, [], "Maria Silva.", "incorrect"),
    (PENSION, [], "Kestrel Labs does not match pension contributions.", "incorrect"),
    (PENSION, [], "The documents do not mention pension matching.", "abstained"),
    (PENSION, [], "Yes, up to 5% of salary.", "incorrect"),
    ("Which cloud provider hosts Canopy?", [], "Canopy is hosted on AWS, I think.", "incorrect"),
    ("Which cloud provider hosts Canopy?", [], "Sorry, I don't know which cloud provider hosts Canopy.", "abstained"),
    ("What is the Wi-Fi password in the Porto office?", [], "The Wi-Fi password is Vine2024!", "incorrect"),
    ("What was Kestrel Labs' revenue in 2023?", [], "Around 4 million euros.", "incorrect"),
    ("How many employees work in the Christchurch office?", [],
     "The documents mention the Christchurch office but do not specify how many employees work there.", "abstained"),
    (INTERNS, [], "None of the passages mention interns.", "abstained"),
    (INTERNS, [], "The documents only talk about full-time employees.", "abstained"),
    (INTERNS, [], "Nothing in the documents says how many days.", "abstained"),
    ("What is the Wi-Fi password in the Porto office?", [], "There is no information about the Wi-Fi password.",
     "abstained"),
    ("How much does the Vinewatch station cost?", [], "", "abstained"),
]


@pytest.mark.parametrize("question,golds,answer,expected", CASES)
def test_labelled_cases(question, golds, answer, expected):
    g = grade(answer, golds, question)
    assert g.label == expected, g.reason


def test_enough_labelled_cases():
    assert len(CASES) >= 40 and {c[3] for c in CASES} == {"correct", "incorrect", "abstained"}


def test_reasons_and_scores():
    g = grade("15, 20, 25 or 30 days depending on seniority", ["25 days"], "How many days of leave do we get?")
    assert g.reason == "extra value 15 not in the gold"
    assert grade("It is not Porto but Lisbon.", ["Porto"], HEAD_OFFICE).reason == "negates the gold"
    assert grade("Maria Silva.", [], CFO).reason == "answers an unanswerable item"
    assert grade("I have no idea.", ["Porto"], HEAD_OFFICE).reason == "declines"
    g = grade("Denver Broncos", ["Broncos"])
    assert (g.label, g.em, g.f1) == ("correct", 0.0, pytest.approx(2 / 3))
    assert grade("Porto [1]", ["Porto"]).em == 1.0
    g = grade("Not mentioned in the passages.", [])
    assert (g.label, g.em, g.f1) == ("abstained", None, None)


def test_recipe_abstain_phrase():
    assert grade("NO_ANSWER", ["Porto"], HEAD_OFFICE, abstain_phrase="NO_ANSWER").label == "abstained"
    assert grade("NO_ANSWER", ["Porto"], HEAD_OFFICE).label == "incorrect"
    assert is_abstention("NO_ANSWER.", "NO_ANSWER")
    assert grade("Lisbon. NO_ANSWER", [], HEAD_OFFICE, abstain_phrase="NO_ANSWER").label == "incorrect"


@pytest.mark.parametrize("text", [
    "I don't know based on the provided information.", "The passages do not mention this.",
    "This is not stated in the documents.", "I cannot answer that from the context.",
    "There is no information about the CFO.", "Unknown.", "", "I have no idea.", "N/A",
    "The passages don't contain that.",
])
def test_abstentions_are_detected_in_paraphrase(text):
    assert is_abstention(text)


@pytest.mark.parametrize("text", ["Paris", "Employees get 27 days of paid vacation.", "The knowledge base is Heron.",
                                  "No, Kestrel Labs does not provide pension matching.",
                                  "The CFO is Maria Silva, but I'm not sure."])
def test_answers_are_not_abstentions(text):
    assert not is_abstention(text)


def test_side_fact_is_an_abstention_only_against_the_question():
    assert is_abstention(SIDE_FACT, question=PENSION)
    assert not is_abstention("Leave requests go through the HR portal.", question="How do I request parental leave?")


@pytest.mark.parametrize("reply,label", [
    ("A", "correct"), ("B", "incorrect"), ("C", "abstained"), ("c", "abstained"), ("B) INCORRECT", "incorrect"),
    ("A) CORRECT", "correct"), ("NOT_ATTEMPTED", "abstained"), ("not attempted", "abstained"),
    ("INCORRECT", "incorrect"), ("  (C) NOT_ATTEMPTED\n", "abstained"), ("C.", "abstained"),
    ("The grade is INCORRECT.", "incorrect"), ("", None), ("banana", None), ("Maybe", None),
])
def test_parse_judge(reply, label):
    assert parse_judge(reply) == label


def test_judge_prompt_renders_golds():
    prompt = JUDGE_PROMPT.format(question="Who is the CFO?", gold=judge_gold([]), answer="Maria Silva")
    assert "do not contain the answer" in prompt and "Maria Silva" in prompt and "NOT_ATTEMPTED" in prompt
    assert judge_gold(["27", "27 days"]) == "any of: 27 | 27 days" and judge_gold(["Porto"]) == "Porto"
    for label in ("A) CORRECT", "B) INCORRECT", "C) NOT_ATTEMPTED"):
        assert label in prompt
