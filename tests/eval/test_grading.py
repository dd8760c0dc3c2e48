"""The lexical grader against labelled cases: what a careful human grader says under SimpleQA's policy.

Questions and golds follow the demo handbook suite (Kestrel Labs); golds == [] is an unanswerable item."""

import pytest

import time

from adapt.eval.metrics import JUDGE_PROMPT, grade, judge_gold, parse_judge

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
OFFICES = "How many offices does the company have?"
ANNUAL = "How many days of annual leave do employees get?"
SLA = "What is the response SLA for P1 incidents?"
EMPLOYEES = "How many employees does the company have?"
CFO_SHORT = "Who is the CFO?"
PLATFORM = "Who leads the platform team?"

# Known misses of the lexical grader, kept with their true labels: slash dates and spelled-out clock times.
KNOWN_GAP = pytest.mark.xfail(reason="not yet read by the lexical grader", strict=True)

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
    # --- review 2: common declines (with and without a gold)
    *[(OFFICES, golds, text, "abstained") for golds in ([], ["3"]) for text in (
        "That's not covered.", "It doesn't say.", "No relevant information found.",
        "This isn't something the handbook addresses.", "That's outside the scope of the handbook.",
        "Hmm, that's not something I can find.", "Unfortunately, the handbook doesn't say", "Sorry, I couldn't find that",
        "I don't know based on the provided information.", "The passages do not mention this.",
        "This is not stated in the documents.", "I cannot answer that from the context.",
        "There is no information about the CFO.", "Unknown.", "I have no idea.", "N/A",
        "The passages don't contain that.")],
    ("How much is the parking allowance?", [],
     "I can't find a parking allowance in the handbook. The travel policy covers mileage at €0.36/km, though.",
     "abstained"),
    (OFFICES, [], "Paris", "incorrect"),
    (OFFICES, [], "The knowledge base is Heron.", "incorrect"),
    ("How do I request parental leave?", [], "Leave requests go through the HR portal.", "incorrect"),
    # --- citation markers, list numbers and identifiers are not values
    *[(ANNUAL, ["25 days"], text, "correct") for text in (
        "25 days [Passage 1]", "According to passage 3, employees get 25 days.", "25 days [1-2]",
        "Employees get 25 days of annual leave.[^1]", "Employees get 25 days of annual leave【1】",
        "Employees get 25 days of annual leave (1).", "Employees get 25 days [doc 2].",
        "Employees get 25 days (source 2).", "Per the handbook v2, employees get 25 days.",
        "Employees get 25 days of annual leave (Leave Policy, p. 4).",
        "1. Employees get 25 days of annual leave.\n2. Leave must be approved by your manager.",
        "1) 25 days of annual leave",
        "Employees get 25 days of annual leave. Source: 03-leave-policy.md (Leave policy > Annual leave)")],
    (SLA, ["15 minutes"], "15 minutes for P1, 1 hour for P2.", "correct"),
    (SLA, ["15 minutes"], "The SLA for P1 is 30 minutes.", "incorrect"),
    ("Who must be told about a security incident first?", ["the CISO"],
     "The CISO must be told first (12-security-incidents.md (Security incident handbook > Communication)).",
     "correct"),
    ("How many paid volunteering days does each employee get per year?", ["two", "two days"], "two paid [1]",
     "correct"),
    # --- side facts beside the answer are not candidates; alternatives offered as the answer are
    (ANNUAL, ["25 days"], "You get 25 days off. Up to 5 days can be carried over.", "correct"),
    (ANNUAL, ["25"], "25 days, plus 2 days for volunteering", "correct"),
    (ANNUAL, ["25 days"], "25 days of leave, accrued at 2.08 days per month", "correct"),
    ("When was it founded?", ["2012"], "It was founded in 2012 and went public in 2020.", "correct"),
    ("When does the office open?", ["9 am"], "From 9am to 6pm.", "correct"),
    ("How many weeks of parental leave are offered?", ["16"], "Sixteen weeks, fully paid for the first 8 weeks.",
     "correct"),
    (ANNUAL, ["25 days"], "20-25 days", "incorrect"),
    (ANNUAL, ["25 days"], "Either 25 or 27 days.", "incorrect"),
    (ANNUAL, ["25 days"], "20 to 25 days.", "incorrect"),
    ("How long is the probation period?", ["six months"], "The probation lasts 3 months, extendable to 6 months.",
     "incorrect"),
    ("How long is the probation period?", ["six months"],
     "Probation is 6 months; notice during probation is 2 weeks.", "correct"),
    # --- count nouns do not make a different value; physical units do
    (EMPLOYEES, ["250"], "There are 250 people.", "correct"),
    (EMPLOYEES, ["250"], "The company employs 250 staff.", "correct"),
    (EMPLOYEES, ["250 employees"], "250 people.", "correct"),
    (EMPLOYEES, ["about 250"], "Around 250 people work there.", "correct"),
    (EMPLOYEES, ["250"], "The company has 2,500 employees.", "incorrect"),
    ("How many people are on the security team?", ["4"], "The security team has four engineers.", "correct"),
    ("What is the maximum laptop weight?", ["1.8 kg"], "1800 g", "correct"),
    ("What is the maximum laptop weight?", ["1.8 kg"], "1.8 g", "incorrect"),
    ("What is the daily meal allowance?", ["€40"], "The allowance is $40.", "incorrect"),
    ("How many weeks of parental leave are offered?", ["16 weeks"], "16 days.", "incorrect"),
    # --- a gold stated as a former value, superseded by another
    (CFO_SHORT, ["Maria Silva"], "Maria Silva was the CFO until 2022; the current CFO is Ana Pereira.", "incorrect"),
    ("Where is the headquarters?", ["Lisbon"], "The headquarters moved from Lisbon to Porto in 2020.", "incorrect"),
    ("Where is the headquarters?", ["Porto"], "The headquarters moved from Lisbon to Porto in 2020.", "correct"),
    (PLATFORM, ["Priya Nair"], "Marco Rossi leads Platform now; Priya Nair led it before.", "incorrect"),
    (PLATFORM, ["Marco Rossi"], "Marco Rossi leads Platform now; Priya Nair led it before.", "correct"),
    ("What tool is used for expenses?", ["Concur"], "We use Concur (formerly Expensify).", "correct"),
    ("Who founded the company?", ["J.K. Rowling"], "It was founded by J. K. Rowling.", "correct"),
    ("What is the Wi-Fi password?", [], "I couldn't find it, but try 'welcome2024'.", "incorrect"),
    # --- yes/no: only a negation of the main predicate says no
    ("Can I work from abroad?", ["yes"], "You can work from abroad for up to 30 days without approval.", "correct"),
    ("Can employees expense a home office chair?", ["yes"],
     "Employees can expense a chair up to €300, no receipts needed.", "correct"),
    ("Do I need a receipt for taxi rides?", ["yes"], "You need a receipt for every taxi ride, no exceptions.",
     "correct"),
    ("Is remote work allowed on Fridays?", ["yes"], "Employees are not allowed to work remotely on Fridays.",
     "incorrect"),
    ("Is remote work allowed on Fridays?", ["no"], "Remote work is never allowed on Fridays.", "correct"),
    ("Is there a dress code?", ["no"], "No dress code applies, but please dress appropriately for client meetings.",
     "correct"),
    # --- smaller paraphrases
    (CFO_SHORT, ["J. R. Smith"], "The CFO is John R. Smith.", "correct"),
    ("Who wrote the report?", ["Dr. Anne Lee"], "The report was written by Anne Lee.", "correct"),
    ("Who wrote the report?", ["Anne Lee"], "Dr. Anne Lee wrote it.", "correct"),
    pytest.param("When is the company offsite?", ["March 3, 2024"], "The offsite is on 3/3/2024.", "correct", marks=KNOWN_GAP),
    ("When is the company offsite?", ["March 3, 2024"], "The offsite is on 4/3/2024.", "incorrect"),
    pytest.param("When is the company offsite?", ["March 30, 2024"], "The offsite is on 3/30/2024.", "correct", marks=KNOWN_GAP),
    pytest.param("When does the office open?", ["9 am"], "The office opens at nine in the morning.", "correct", marks=KNOWN_GAP),
    ("What is the on-call rotation length?", ["7 days"], "Each on-call rotation lasts a week.", "correct"),
    ("What is the on-call rotation length?", ["one week"], "Each on-call rotation lasts a week.", "correct"),
    ("What does SSO stand for?", ["single sign-on"], "single sign on", "correct"),
    ("What temperature is the server room kept at?", ["21°C"], "21 degrees Celsius", "correct"),
    ("Which days are office days?", ["Tuesdays and Thursdays"], "Tue and Thu.", "correct"),
    ("What is the relocation allowance?", ["1,200 euros"], "€1.200", "correct"),
    ("What is the relocation allowance?", ["1,200 euros"], "€12.000", "incorrect"),
]


@pytest.mark.parametrize("question,golds,answer,expected", CASES)
def test_labelled_cases(question, golds, answer, expected):
    g = grade(answer, golds, question)
    assert g.label == expected, g.reason


def test_enough_labelled_cases():
    assert len(CASES) >= 40 and {c[3] for c in CASES if isinstance(c, tuple) and len(c) == 4} == {"correct", "incorrect", "abstained"}


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
    assert grade("NO_ANSWER.", [], HEAD_OFFICE, abstain_phrase="NO_ANSWER").label == "abstained"
    assert grade("Lisbon. NO_ANSWER", [], HEAD_OFFICE, abstain_phrase="NO_ANSWER").label == "incorrect"


@pytest.mark.parametrize("reply,label", [
    ("A", "correct"), ("B", "incorrect"), ("C", "abstained"), ("c", "abstained"), ("B) INCORRECT", "incorrect"),
    ("A) CORRECT", "correct"), ("NOT_ATTEMPTED", "abstained"), ("not attempted", "abstained"),
    ("INCORRECT", "incorrect"), ("  (C) NOT_ATTEMPTED\n", "abstained"), ("C.", "abstained"),
    ("The grade is INCORRECT.", "incorrect"), ("", None), ("banana", None), ("Maybe", None),
    ("Answer: B", "incorrect"), ("Grade: C", "abstained"), ("The answer is A) CORRECT", "correct"), ("**B**", "incorrect"),
])
def test_parse_judge(reply, label):
    assert parse_judge(reply) == label


def test_judge_prompt_renders_golds():
    prompt = JUDGE_PROMPT.format(question="Who is the CFO?", gold=judge_gold([]), answer="Maria Silva")
    assert "do not contain the answer" in prompt and "Maria Silva" in prompt and "NOT_ATTEMPTED" in prompt
    assert judge_gold(["27", "27 days"]) == "any of: 27 | 27 days" and judge_gold(["Porto"]) == "Porto"
    for label in ("A) CORRECT", "B) INCORRECT", "C) NOT_ATTEMPTED"):
        assert label in prompt


@pytest.mark.parametrize("answer", ["no " * 17000, "not mentioned " * 4000, "nothing " + "word " * 10000,
                                    "x, " * 17000, "The " + "Big " * 12500 + "Office", "1 " * 25000])
def test_long_answers_grade_in_linear_time(answer):
    assert len(answer) >= 50_000
    start = time.perf_counter()
    grade(answer, ["25 days"], ANNUAL)
    assert time.perf_counter() - start < 1.0  # was 15-30 s while a pattern rescanned the text
