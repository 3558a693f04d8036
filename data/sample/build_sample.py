"""Build the synthetic sample dataset shipped with newsclf.

The articles are synthetic: every headline, sentence, person, place, organisation and
outlet below was written for this project, so the file contains no real news text.
Each article is assembled from hand-written building blocks: a topic "story" (headline,
lead and detail sentence), generic topic details, framing sentences and quotes typical of
a left, centrist or right-leaning outlet, and a few neutral sentences shared by all.
Slots such as ``{place}`` or ``{pct}`` are filled with seeded random values, so the
output is identical on every run.

Run it from the repository root (standard library only)::

    python data/sample/build_sample.py

It rewrites ``data/sample/articles.jsonl`` atomically and prints a count table.
"""

import calendar
import json
import os
import random
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

SEED = 20250417
OUT_PATH = Path(__file__).resolve().parent / "articles.jsonl"
LEANINGS = ("left", "center", "right")
CELL_SIZES = (16, 18)  # articles per topic x leaning cell (inclusive range)
VALIDATION_SHARE = 0.2
LEANING_TITLE_RATE = 0.3  # share of headlines taken from the leaning's own patterns
OWN_WORD_RATE = 0.8  # share of word choices taken from the article's own leaning
NEUTRAL_SWAP_RATE = 0.15  # share of articles where one framing sentence is neutral
EXTRA_NEUTRAL_RATE = 0.35
TWO_PARAGRAPH_RATE = 0.75
MIN_WORDS, MAX_WORDS = 60, 180
FIRST_DATE, LAST_DATE = date(2025, 1, 1), date(2026, 6, 30)
STORY_KEYS = ("H:", "I:", "L:", "D:")

OUTLETS = {
    "left": ("Bellhaven Voice", "Tidewater Commons", "Cedar Row Dispatch", "The Lantern Weekly"),
    "center": ("Midmark Wire", "Fairline Ledger", "Crosswind News Service", "The Equinox Record"),
    "right": ("Ironbridge Sentinel", "Granite Post Daily", "The Freehold Examiner", "Lodestar Herald"),
}

# Comma-separated word lists, parsed into tuples by _csv() further down.
NAME_LISTS = {
    "first": """
        Dana, Marcus, Priya, Elena, Tobias, Renee, Julian, Keisha, Owen, Marisol, Graham, Ingrid,
        Rafael, Noor, Caleb, Yvonne, Desmond, Harriet, Anika, Felix, Lorraine, Theo, Wendell,
        Beatriz, Soren, Nadia, Everett, Colette, Imani, Rhys, Vivian, Hector, Mireille, Arjun,
        Delphine, Silas, Tamsin, Ezra, Lucinda, Bram
    """,
    "last": """
        Whitlock, Okafor, Lindqvist, Marchetti, Abernathy, Castellanos, Pryor, Ashworth, Fairbanks,
        Nakamura, Ellery, Thorne, Rasmussen, Quintero, Halloran, Brightwater, Adebayo, Osei, Varga,
        Holcombe, Sorensen, Pemberton, Delacroix, Iwasaki, Maddox, Renwick, Szabo, Galloway,
        Achterberg, Calloway, Beaumont, Strand, Kettering, Lisowski, Mercado, Voss, Tolliver,
        Greaves, Amundsen, Paquette, Oduya, Blackwood, Hadley, Coburn
    """,
    "place": """
        Port Ellery, Brennan Falls, Calder Bay, North Harlow, Westmere, Lake Orrin, Redmoor,
        Ashford Valley, Tamsworth, Velden, Orrinford, Kessler Junction, Silverbrook, Hollis Point,
        Marrow Creek, Greyhaven, Elmstead, Castine Ridge, Dovecote, Larkfield
    """,
    "region": """
        Kessler County, Pinecrest County, Marlow County, Brackett County, Ravenna County,
        Westbrook County, Halden County, Tollan County, Averill County, Stonegate County
    """,
    "country": "Valdoria, Kestavia, Marovia, Eskeland, Corvania, Tarsinia, Belmark, Lorvane, Quellmar, Drevnia",
    "small": "two, three, four, five, six, seven, eight, nine",
    "ordinal": "second, third, fourth, fifth, sixth",
}
MONTHS = tuple(calendar.month_name[1:])

# Word choices that differ by outlet leaning: key -> (left, center, right).
LEXICON = {
    "people": ("working families", "residents", "hardworking taxpayers"),
    "migrants": ("undocumented immigrants", "migrants", "illegal immigrants"),
    "enforcement": ("an immigration raid", "an enforcement operation", "an operation targeting illegal hiring"),
    "tax_cut": ("tax breaks for the wealthy", "the proposed tax cuts", "tax relief for families"),
    "spending": ("public investment", "government spending", "runaway spending"),
    "climate": ("the climate crisis", "climate change", "shifting weather patterns"),
    "regulation": ("public protections", "new regulations", "burdensome red tape"),
    "businesses": ("big corporations", "businesses", "job creators"),
    "police": ("police departments", "law enforcement agencies", "frontline officers"),
    "safety_net": ("the social safety net", "benefit programs", "entitlement programs"),
    "voting": ("voting rights", "election rules", "election integrity"),
    "health_law": ("affordable health coverage", "the state's health coverage programs", "government-run health care"),
    "big_tech": ("Big Tech monopolies", "large technology companies", "Silicon Valley giants"),
    "offenders": ("people awaiting trial", "defendants", "repeat offenders"),
    "military_aid": ("weapons shipments", "military aid", "security assistance"),
    "drilling": ("fossil fuel drilling", "oil and gas production", "domestic energy production"),
    "renewables": ("clean energy", "renewable energy", "intermittent wind and solar power"),
}

SPEAKERS = {
    "left": """
        - an organizer with the Fair Shot Coalition
        - director of the People First Network
        - a spokesperson for the Working Neighbors Alliance
        - a union steward and longtime resident
        - policy director at the Equal Footing Institute
        - a civil rights attorney
    """,
    "center": """
        - a senior fellow at the Brightline Policy Institute
        - an analyst with the Civic Data Project
        - a professor of public policy at Halden State University
        - research director at the Clearwater Center for Public Affairs
        - a former state budget director
        - an economist at the Northgate Research Group
    """,
    "right": """
        - president of the Taxpayers Liberty Council
        - a spokesperson for Citizens for Limited Government
        - a small-business owner and former county commissioner
        - director of the Bedrock Freedom Foundation
        - a senior fellow at the Liberty Enterprise Forum
        - a former sheriff and taxpayer advocate
    """,
}

# Headline patterns per leaning; {issue} is the story's issue phrase.
LEANING_HEADLINES = {
    "left": """
        - Workers and advocates demand fairness in fight over {issue}
        - Advocates say vulnerable families are being left behind on {issue}
        - Communities demand a voice as officials debate {issue}
        - Inequality takes center stage in debate over {issue}
        - Organizers push for bolder action on {issue}
        - Critics say corporate interests are shaping decisions on {issue}
        - Civil rights groups raise alarms over {issue}
    """,
    "center": """
        - What to know about the debate over {issue}
        - Lawmakers weigh trade-offs on {issue}
        - Data offer a mixed picture on {issue}
        - Both sides claim wins in compromise on {issue}
        - Analysts see uncertain effects from changes to {issue}
        - Explainer: where things stand on {issue}
        - Officials, critics offer competing numbers on {issue}
    """,
    "right": """
        - Taxpayers could foot the bill as state expands its role in {issue}
        - Critics warn of government overreach on {issue}
        - Business owners push back against new rules on {issue}
        - Conservatives vow to fight costly approach to {issue}
        - Lawmakers urged to cut red tape in debate over {issue}
        - Families bear the cost as officials double down on {issue}
        - Common sense missing in fight over {issue}, critics say
    """,
}

# Framing sentences and quotes per leaning, shared across topics.
SHARED_FRAMING = {
    "left": """
        - Progressive lawmakers said the debate over {issue} shows how often policy is written
          for the powerful rather than for ordinary people.
        - Advocates said any solution on {issue} must put working people and vulnerable
          communities first.
        - Community organizers vowed to keep pressure on officials, saying the fight over
          {issue} is ultimately about fairness.
        - Critics said the approach would deepen inequality, shifting costs onto those least
          able to bear them.
        - Union leaders said workers have been left out of the conversation on {issue} for too long.
        - Supporters of stronger public investment said the state can afford to act on {issue}
          if the wealthiest pay their fair share.
        - Advocates noted that low-income neighborhoods and communities of color often feel the
          effects of {issue} first and worst.
        - Progressive groups said the plan falls short and called for bolder action to protect
          families.
        - Grassroots organizers said residents packed the hearing to demand that officials
          listen to those most affected by {issue}.
        - Several advocacy groups said the measure had been watered down under pressure from
          corporate lobbyists.
        - Civil rights leaders said the policy must be judged by how it treats the most vulnerable.
        - Activists argued that years of cuts to public services have made the problems
          surrounding {issue} worse.
        - Advocates said economic security, health and justice are connected, and that policy
          on {issue} should reflect that.
        - Labor groups said they would press for stronger protections when the measure returns
          for a final vote.
        - Advocates said the state should look to community-led solutions rather than handing
          more power to large corporations.
        - Progressive leaders said the outcome was a reminder that equity has to be built into
          policy from the start.
        - "We can't keep asking working families to carry the burden while the biggest players
          get a pass," said {speaker}.
        - "This is about dignity, and about whether our institutions work for everyone or just
          the few at the top," said {speaker}.
        - "People are hurting right now, and half measures on {issue} won't cut it," said {speaker}.
        - "When communities organize, they win, and we are not going away," said {speaker}.
        - "The people most affected have waited long enough for justice," said {speaker}.
        - "The question is simple: whose side are you on, the corporations or the people?"
          said {speaker}.
        - "We need solutions that close gaps, not ones that widen them," said {speaker}.
        - "Our neighbors deserve better than another study and another delay," said {speaker}.
    """,
    "center": """
        - Analysts said the debate over {issue} involves real trade-offs, and the available data
          do not clearly favor either side.
        - Lawmakers from both parties said they expect further negotiations on {issue} before a
          final vote.
        - Independent researchers said the long-term effects on {issue} will be difficult to
          measure for several years.
        - A nonpartisan review is expected to be released before lawmakers take up the matter again.
        - Public opinion on {issue} remains divided, according to recent surveys, with many
          voters saying they have not followed the debate closely.
        - Officials said they would publish detailed figures so the public can evaluate the
          policy's effects.
        - Supporters and opponents agreed on the broad goals but differed on the cost and the
          timeline.
        - Experts said similar policies elsewhere have produced mixed results, depending on how
          they were carried out.
        - The final shape of the proposal will likely depend on amendments negotiated in committee.
        - Budget analysts noted that the cost estimates rest on assumptions that could change
          significantly.
        - Several lawmakers said they had not yet decided how to vote and wanted to see more
          data on {issue}.
        - Observers said the compromise reflects the narrow margins in both chambers.
        - Neither side's projections have been independently verified, according to the
          legislature's research office.
        - Policy researchers said the debate over {issue} is likely to continue into next
          year's session.
        - Officials on both sides acknowledged that the outcome is unlikely to satisfy everyone.
        - A review by the state auditor is scheduled for next year and will assess whether the
          program met its stated goals.
        - "The evidence on {issue} is more mixed than either side tends to acknowledge,"
          said {speaker}.
        - "What matters now is how the policy is carried out and whether anyone measures the
          results," said {speaker}.
        - "There is room for a deal here if both sides are willing to give a little," said {speaker}.
        - "We should wait for the data before declaring victory or defeat," said {speaker}.
        - "Most voters are somewhere in the middle on {issue}, even if the loudest voices are
          not," said {speaker}.
        - "The trade-offs are real, and any honest analysis has to lay them out plainly,"
          said {speaker}.
        - "It's too early to tell whether this will work as intended," said {speaker}.
        - "Reasonable people can look at the same numbers and draw different conclusions,"
          said {speaker}.
    """,
    "right": """
        - Conservative lawmakers said the debate over {issue} shows how government keeps growing
          while taxpayers are asked to pay more.
        - Critics called the proposal another example of government overreach that puts
          bureaucrats ahead of families.
        - Taxpayer advocates said any plan on {issue} must be paid for without raising taxes.
        - Small-business owners said new mandates would make it harder to hire, expand and compete.
        - Opponents argued that the free market, not more regulation, is the best answer
          to {issue}.
        - Fiscal watchdogs warned that the measure would add to long-term obligations that
          future taxpayers will have to cover.
        - Conservative groups said the state should focus on its core duties, including public
          safety and secure borders, before launching new programs.
        - Critics said the plan would reward special interests while doing little for people
          who play by the rules.
        - Opponents said local communities, not state officials, should make decisions
          about {issue}.
        - Limited-government groups said the proposal would expand state power in ways that
          are hard to reverse.
        - Business leaders warned that higher costs would be passed on to consumers in the form
          of higher prices.
        - Critics said officials should cut waste and red tape before asking residents for
          more money.
        - Opponents said the measure ignores the concerns of rural and working taxpayers who
          will bear its costs.
        - Conservative leaders vowed to fight the measure, calling it a costly mistake for a
          state that needs growth.
        - Critics of the plan said personal responsibility and individual freedom should guide
          policy on {issue}.
        - Several lawmakers said the state should lower taxes and let families keep more of
          what they earn.
        - "Government doesn't have a revenue problem; it has a spending problem," said {speaker}.
        - "Families know how to spend their money better than politicians do," said {speaker}.
        - "This is another top-down mandate that ignores the people who actually have to live
          with it," said {speaker}.
        - "We need fewer regulations and more freedom, not another bureaucracy," said {speaker}.
        - "The people of this state want safety, security and lower taxes, and that's what we
          intend to deliver," said {speaker}.
        - "Hardworking taxpayers are tired of footing the bill for failed programs,"
          said {speaker}.
        - "Every new rule on {issue} comes with a cost, and it's always ordinary people who pay
          it," said {speaker}.
        - "Common sense has been missing from this debate for far too long," said {speaker}.
    """,
}

NEUTRAL = """
    - Officials said more details would be released in the coming weeks.
    - It was not immediately clear when a final decision would be made.
    - The figures are preliminary and could be revised.
    - A spokesperson declined to comment further, citing ongoing discussions.
    - Officials said the timeline could change depending on funding and approvals.
    - Additional hearings are scheduled for {month}.
    - The full report runs to more than {n} pages.
    - Several people who spoke at the hearing asked that their names not be used.
    - The issue is likely to come up again during next year's session.
    - Officials said they would provide an update at a public briefing later this month.
    - Reporters were not allowed to attend the closed-door portion of the meeting.
    - The proposal was first discussed publicly in {month}.
    - Records reviewed for this story were obtained through a public records request.
    - A final vote had not been scheduled as of Friday.
    - Some of the figures could not be independently verified.
    - Officials cautioned that the numbers are still being reviewed.
"""

# ---------------------------------------------------------------------------------------
# Topics. Stories: H headline, I issue phrase, L lead sentence, D detail sentence.
# ---------------------------------------------------------------------------------------

ECONOMY_STORIES = """
H: State lawmakers approve {money} budget after late-night session
I: the state budget
L: State lawmakers approved a {money} spending plan early Wednesday that boosts school funding
   and road repairs while drawing down the state's reserves.
D: The plan includes {tax_cut} alongside new money for bridges and transit, and it now heads
   to the governor's desk.

H: Unemployment in {place} falls to {rate} percent, lowest in {small} years
I: jobs and wages
L: The unemployment rate in {place} fell to {rate} percent last month, the lowest level in
   {small} years, according to figures released by {agency}.
D: Job gains were concentrated in health care, construction and hospitality, while
   manufacturing employment was flat.

H: {last} signs minimum wage increase into law
I: the minimum wage
L: Governor {name} signed legislation on Monday raising the state minimum wage in stages to
   ${wage} an hour by {year}.
D: Analysts at {agency} estimated that the increase would affect roughly {n2} workers, most
   of them in retail and food service.

H: Revenue forecast trimmed by {money} as growth slows
I: state revenue
L: {agency} lowered its two-year revenue forecast by {money} on Thursday, citing weaker sales
   tax collections and a slowdown in home construction.
D: The revision leaves lawmakers with less room for new programs or {tax_cut} in the coming
   session.

H: {place} plant to add {n} jobs after incentive deal
I: business incentives
L: A maker of electric bus components said it would add {n} jobs at its {place} plant after
   securing a package of state incentives worth {money_s}.
D: The incentives are spread over {small} years and can be clawed back if the company misses
   its hiring targets.

H: Grocery prices outpace wages for third straight quarter
I: grocery prices
L: Grocery prices across the region rose {rate} percent over the past year, outpacing wage
   growth for a third straight quarter, according to a report from {agency}.
D: Households earning less than ${income} a year spend a far larger share of their budgets
   on food, the report found.

H: {last} unveils plan to overhaul state income tax
I: income taxes
L: {official} unveiled {bill} on Wednesday, a proposal that would reshape how the state taxes
   wages, investment income and small business profits.
D: Supporters say it would simplify the tax code, while opponents question its cost to a
   general fund already under strain.

H: Pension shortfall grows to {money}, auditors warn
I: public pensions
L: State auditors reported that the public employee pension system faces a {money} shortfall,
   a gap that has widened despite strong market returns.
D: Officials said closing the gap would require higher contributions, benefit changes or more
   {spending} over the next decade.

H: {place} council votes to freeze property taxes
I: property taxes
L: The {place} city council voted {votes} to freeze property tax rates for homeowners after
   assessments jumped sharply for a second year.
D: City staff estimated that the freeze would cost about {money_s} in forgone revenue over
   {small} years.

H: Rising rents squeeze {people} in {place}
I: housing costs
L: Median rent in {place} climbed to ${rent} a month this spring, up {rate} percent from a year
   earlier, according to a survey compiled by {agency}.
D: Builders and tenant groups alike say the area has added far fewer homes than it needs,
   pushing costs higher for {people}.

H: Holiday sales slump at {region} retailers
I: consumer spending
L: Retailers across {region} reported holiday sales {rate} percent below last year's totals,
   as shoppers pulled back on big-ticket purchases.
D: Several store owners said they had cut seasonal hiring and expected to trim inventories in
   the new year.

H: {bill} clears committee on party-line vote
I: tax policy
L: A legislative committee advanced {bill} on a {votes} vote Tuesday, sending the economic
   package to the full chamber.
D: The bill pairs {tax_cut} with changes to how the state funds {safety_net}.
"""

ECONOMY_PARTS = """
[roles]
- Governor
- State Senator
- State Treasurer
- Representative
- Mayor
[agencies]
- the state Revenue Office
- the Department of Commerce and Labor
- the Office of Budget Analysis
- the state Labor Statistics Bureau
[bills]
- the Economic Opportunity Act
- the Tax Fairness and Simplification Act
- the Family Prosperity Act
- the Main Street Growth Act
[details]
- State economists said wage growth has averaged {rate2} percent over the past year.
- Debate over the state's finances has centered on whether cuts to {safety_net} would be
  needed to keep the budget balanced.
- The state's rainy day fund stands at about {money}, down from its peak two years ago.
- Some economists cautioned that monthly figures are volatile and often revised.
- Business groups said {businesses} are still struggling with higher borrowing costs and a
  tight labor market.
- Consumer confidence in the region dipped in the most recent survey, with respondents citing
  the cost of housing and food.
- The state added about {n2} jobs over the past year, according to preliminary data.
- Officials said the next revenue update, due in {month}, will shape final budget negotiations.
[left]
- Labor advocates said {people} have watched rent, child care and food costs climb far faster
  than their paychecks.
- "Corporate profits are at record highs while the people stocking the shelves can't afford the
  groceries they sell," said {speaker}.
- Advocates argued that state policy has leaned too heavily on tax breaks for the wealthy while
  schools and clinics go underfunded.
- Economic justice groups noted that the wealthiest households captured most of the gains from
  last year's growth.
- "This economy was built for shareholders, not for the nurses, drivers and cooks who keep this
  state running," said {speaker}.
- Worker advocates said raising wages and strengthening unions are the surest way to shrink the
  gap between rich and poor.
[center]
- Economists were divided on the likely effects, with some projecting modest job losses and
  others predicting little change.
- The nonpartisan Office of Budget Analysis said its estimates carry a wide margin of error and
  could shift with national conditions.
- "The data point in two directions at once, and policymakers should be careful about reading
  too much into a single quarter," said {speaker}.
- Both parties claimed credit for the improving numbers, while independent analysts said
  national trends likely played the larger role.
- Supporters say the approach will ease cost-of-living pressures, while opponents say it could
  slow hiring; analysts expect the effects to take a year or more to show up.
- Forecasters said the outlook depends heavily on interest rates and consumer spending over the
  next two quarters.
[right]
- Business owners warned that new mandates and higher taxes force them to cut hours, raise
  prices or delay hiring, hurting the very workers officials say they want to help.
- "Every dollar the state takes from a family's paycheck is a dollar that family can't spend,
  save or invest," said {speaker}.
- Fiscal conservatives said the state's money troubles are the predictable result of years of
  runaway spending and promises it cannot keep.
- Taxpayer groups urged lawmakers to return any surplus to hardworking taxpayers rather than
  expand programs that will be hard to unwind.
- "Free markets, not government mandates, are what raise wages over time," said {speaker}.
- Conservative economists said lower taxes and lighter regulation would do more to attract
  employers than targeted subsidies.
"""

HEALTH_STORIES = """
H: Rural hospital in {place} to close maternity ward
I: rural hospital care
L: {place} Regional Hospital said Thursday it would close its maternity unit within {small}
   months, leaving expectant parents more than an hour's drive from the nearest delivery room.
D: Administrators said they had been unable to recruit enough obstetric nurses despite offering
   signing bonuses.

H: {last} backs ${cap} monthly cap on insulin costs
I: prescription drug prices
L: {official} announced support Tuesday for legislation that would cap out-of-pocket insulin
   costs at ${cap} a month for people with private insurance.
D: {agency} estimated that the cap would apply to roughly {n2} residents who rely on insulin.

H: Flu cases climb {pct} percent in {region} as season peaks early
I: flu season
L: Reported flu cases in {region} rose {pct} percent over the past two weeks, prompting {agency}
   to urge residents to get vaccinated.
D: Hospitals in the area said pediatric wards were nearing capacity and some elective procedures
   had been postponed.

H: {n2} lose public health coverage after eligibility review
I: public health coverage
L: About {n2} people lost public health coverage during the first round of eligibility reviews,
   according to figures released by {agency}.
D: Officials said most of those removed were dropped for missing paperwork rather than being
   found ineligible.

H: Nurses at {place} Medical Center vote to authorize strike
I: nurse staffing
L: Nurses at {place} Medical Center voted overwhelmingly on Sunday to authorize a strike, citing
   staffing levels they say put patients at risk.
D: The union represents about {n} nurses, and a walkout could begin as early as {month}.

H: Drug price board sets first limits on {small} medications
I: prescription drug prices
L: The state's drug affordability board set payment limits on {small} widely used prescription
   drugs Tuesday, the first such action since the board was created.
D: Pharmaceutical manufacturers have filed suit to block the limits, arguing the board exceeded
   its authority.

H: Mental health crisis line sees {pct} percent jump in calls
I: mental health services
L: Calls to the state's mental health crisis line rose {pct} percent in its first full year,
   according to a report presented to lawmakers Monday.
D: Counselors answered about {n2} calls last year, with the busiest hours falling between
   midnight and 4 a.m.

H: Measles outbreak in {region} prompts school vaccine clinics
I: childhood vaccination
L: {agency} confirmed {count} cases of measles tied to an outbreak in {region}, most of them
   among unvaccinated children.
D: Health officials said the outbreak was the largest in the region in more than a decade.

H: Insurers seek {pct} percent premium hike for next year
I: insurance premiums
L: Insurers selling plans on the state marketplace have requested average premium increases of
   {pct} percent for next year, regulators said.
D: Regulators will hold public hearings on the requests before issuing final decisions
   in {month}.

H: Emergency room waits in {place} hit record, report finds
I: emergency care
L: Patients at emergency rooms in {place} waited a median of {small} hours before being admitted
   last quarter, a record, according to {agency}.
D: Clinicians said many patients arrive in the emergency room because they cannot find a
   primary care doctor accepting new patients.

H: {last} proposes {money_s} plan to keep rural clinics open
I: rural clinics
L: {official} unveiled {bill}, a {money_s} proposal to keep struggling rural clinics open and
   recruit doctors to underserved towns.
D: State data show that {pct2} percent of rural residents live more than 30 miles from a
   hospital with an intensive care unit.

H: Hospital system posts {money_s} loss, plans layoffs
I: hospital finances
L: The largest hospital system in {region} reported an operating loss of {money_s} for the year
   and said it would eliminate about {n} positions, most of them administrative.
D: Executives blamed rising supply costs, staffing agency fees and unpaid patient bills.
"""

HEALTH_PARTS = """
[roles]
- Governor
- State Senator
- Health Commissioner
- Representative
- Assemblymember
[agencies]
- the state Department of Health
- the Office of Public Health
- the state Health Services Agency
- the Health and Family Services Department
[bills]
- the Rural Health Access Act
- the Rural Clinics Stabilization Act
- the Healthy Communities Act
- the Health Workforce Act
[details]
- Debate over {health_law} has shaped the state's response, with lawmakers split over how far
  to expand eligibility.
- Hospital leaders say staffing shortages and rising costs have squeezed margins across the
  region.
- The state ranks near the middle nationally on most measures of health access, according to a
  recent review.
- About {pct2} percent of residents lack health insurance, according to the latest state survey.
- Public health officials said they would keep tracking the data and update their guidance as
  needed.
- Lawmakers are expected to take up several health care bills when the session resumes
  in {month}.
- Rural counties have lost {small} hospitals or clinics over the past decade, according to
  state records.
- Health officials encouraged residents with questions about coverage to call the state's
  help line.
[left]
- Patient advocates said cuts to care fall hardest on low-income and rural families who already
  struggle to see a doctor.
- "Health care is a right, and no one should have to choose between medicine and rent,"
  said {speaker}.
- Advocates blamed profit-driven hospital chains for cutting services in communities that
  generate lower returns.
- "Nurses are burning out because hospitals have chosen executive bonuses over safe staffing,"
  said {speaker}.
- Supporters called for expanding public coverage so that care no longer depends on a family's
  job or zip code.
- Public health advocates said decades of underfunding have left communities of color with
  fewer clinics and worse outcomes.
[center]
- Health policy researchers said the causes are complex, involving workforce shortages,
  reimbursement rates and shifting patient populations.
- "There is no single fix here; payment reform and workforce training will both matter,"
  said {speaker}.
- An independent review found that similar policies in other states lowered some patient costs
  but had mixed effects on premiums.
- Hospital executives and union leaders presented competing figures on staffing, and state
  inspectors are expected to review both.
- Cost estimates for the proposal range widely, depending on assumptions about enrollment and
  drug prices.
- Researchers said better data on wait times and outcomes would help lawmakers judge which
  approaches work.
[right]
- Critics said price controls would discourage investment in new medicines and lead to
  shortages down the line.
- "Patients and doctors, not bureaucrats, should be making health care decisions,"
  said {speaker}.
- Conservative lawmakers argued that public coverage rolls had grown beyond what taxpayers can
  sustain and that regular reviews are needed to root out waste.
- Opponents warned that the state is inching toward government-run health care, with longer
  waits and fewer choices for patients.
- "Cutting red tape on clinics and letting nurses practice to the full extent of their training
  would do more than another government program," said {speaker}.
- Free-market groups said price transparency and competition among providers would bring costs
  down faster than new mandates.
"""

IMMIGRATION_STORIES = """
H: Border crossings near {place} fall {pct} percent
I: border security
L: Apprehensions along the border near {place} fell {pct} percent in the most recent quarter
   compared with a year earlier, according to figures from {agency}.
D: Officials attributed the decline to stricter enforcement, seasonal patterns and policy
   changes across the border.

H: {last} sends {n} troopers to border counties
I: border security
L: Governor {name} ordered {n} additional state troopers and National Guard members to border
   counties on Friday, calling the deployment temporary.
D: The deployment is expected to cost about {money_s} over the next {small} months.

H: Immigration court backlog tops {n2} cases
I: the immigration court backlog
L: The backlog of pending cases in the region's immigration courts has grown to more than
   {n2}, with the average case now taking over {small} years to resolve.
D: Attorneys say many of those waiting for hearings are working legally while their cases
   proceed.

H: {place} shelter for asylum seekers reaches capacity
I: migrant shelters
L: A shelter in {place} that houses {migrants} awaiting court dates said it had reached
   capacity and would begin turning families away.
D: Local officials said the shelter has housed about {n} people since it opened.

H: Farmers in {region} warn of crop losses as visa delays mount
I: seasonal work visas
L: Growers in {region} said they may leave crops unharvested this season after delays in
   processing seasonal work visas.
D: Agricultural groups estimate that about {share} percent of farmworkers in the state are
   foreign-born.

H: Workplace raid at {place} plant detains {n} workers
I: workplace enforcement
L: Federal agents detained {n} workers during {enforcement} at a meatpacking plant in {place}
   on Wednesday, according to local officials.
D: Federal officials declined to say how many of those detained had prior deportation orders.

H: {place} limits police cooperation with immigration agents
I: sanctuary policies
L: The {place} city council voted {votes} to bar local police from holding people in jail
   solely at the request of federal immigration agents.
D: Sheriffs and immigrant advocates gave sharply different accounts of how often such
   detention requests are issued.

H: {last} bill targets jail policy on {migrants}
I: immigration enforcement
L: {official} introduced {bill} on Monday, a measure that would change how county jails handle
   {migrants} who are arrested on unrelated charges.
D: The sponsor said the bill would clarify rules that currently vary from county to county.

H: State launches {money_s} program to speed work permits
I: work permits
L: The state will spend {money_s} to help newly arrived residents obtain work permits more
   quickly, {agency} announced Tuesday.
D: Officials estimate that about {n2} residents hold pending asylum claims or temporary
   protected status.

H: Border barrier near {place} draws lawsuit
I: the border wall
L: Construction began this week on {small} miles of new border barrier near {place},
   prompting a lawsuit from landowners and conservation groups.
D: The suit argues that the barrier would cut through private ranch land and a wildlife
   corridor.

H: {last} calls for more immigration judges as waits grow
I: asylum processing
L: {official} called for hiring more immigration judges after data showed that wait times for
   asylum hearings have doubled since {year0}.
D: Court records show that {share} percent of asylum cases in the region were decided in the
   applicant's favor last year.

H: {region} schools enroll {n} newly arrived students
I: newcomer students
L: School districts in {region} enrolled about {n} newly arrived immigrant students this fall,
   prompting requests for more bilingual teachers and classroom space.
D: District officials said they had received {money_s} in emergency state aid but expect
   costs to exceed that amount.
"""

IMMIGRATION_PARTS = """
[roles]
- Governor
- State Senator
- Representative
- Attorney General
- Mayor
[agencies]
- the Border Coordination Office
- the state Department of Public Safety
- the Office of Immigrant Services
- the state Workforce Agency
[bills]
- the Immigration Enforcement Clarity Act
- the Community Safety and Trust Act
- the County Jail Procedures Act
- the Public Safety Coordination Act
[details]
- A spokesperson for {agency} said the agency would keep coordinating with federal authorities.
- The state is home to an estimated {n2} {migrants}, according to independent estimates.
- Immigration policy is set largely at the federal level, which limits what state and local
  officials can do.
- Polls show immigration ranks among the top concerns for voters in the state.
- Employers in construction, agriculture and hospitality have reported persistent labor
  shortages.
- Local officials said federal reimbursements have covered only part of their costs.
- Attorneys said changes in federal guidance over the past year have added to confusion for
  applicants.
- The legislature is expected to consider several immigration bills before the session ends
  in {month}.
[left]
- Immigrant rights groups said enforcement sweeps terrorize children who come home from school
  to find their parents gone.
- "These are our neighbors, our coworkers and our classmates, and they deserve due process and
  dignity," said {speaker}.
- Advocates said the state should push for a path to citizenship rather than spending millions
  on militarized enforcement.
- Civil rights attorneys warned that entangling local police with immigration agents leads to
  racial profiling and makes families afraid to report crimes.
- "Our economy runs on immigrant labor, and it's time our laws treated these workers with
  respect," said {speaker}.
- Faith leaders and volunteers said they would keep offering shelter and legal help to families
  seeking asylum.
[center]
- Experts said border numbers often shift with seasonal patterns and policy changes abroad,
  making short-term trends hard to interpret.
- "Enforcement and legal pathways are both part of the picture, and the data suggest neither
  alone will clear the backlog," said {speaker}.
- Researchers say the evidence on how local cooperation policies affect public safety is mixed.
- The nonpartisan state budget office estimated the costs over five years, noting that some
  would be offset by new tax revenue.
- Polls show residents are divided, with majorities supporting both stronger border security
  and legal status for long-term workers.
- Analysts said federal courts and federal lawmakers will shape much of the policy, regardless
  of what the state does.
[right]
- Supporters said state action is necessary because federal authorities have failed to secure
  the border.
- "A nation that cannot control its borders cannot protect its citizens," said {speaker}.
- Law enforcement groups said sanctuary policies release dangerous criminals back onto the
  streets instead of handing them to federal agents.
- Critics said taxpayers should not foot the bill for housing and services for illegal
  immigrants while local families struggle.
- "We welcome legal immigrants, but the rule of law has to mean something," said {speaker}.
- Conservative lawmakers said finishing the border barrier and ending catch-and-release would
  stem the flow of drugs and human smuggling.
"""

ENVIRONMENT_STORIES = """
H: {region} approves {small} solar farms despite farmland concerns
I: solar development
L: {region} commissioners voted {votes} to approve {small} utility-scale solar projects covering
   about {n2} acres, much of it former cropland.
D: The projects are expected to produce enough electricity to power roughly {n3} homes.

H: Drought forces water cuts for {place} farmers
I: water rights
L: The Water Resources Authority ordered farmers in the {place} area to cut water use by {pct}
   percent this summer as reservoir levels fell to their lowest point in years.
D: Officials said the cuts would fall hardest on growers of thirsty crops such as alfalfa
   and nuts.

H: Coal plant near {place} to close by {year}
I: the coal plant closure
L: The utility that runs the coal-fired power plant near {place} said it would close the
   facility by {year} and replace it with a mix of natural gas and {renewables}.
D: About {n} people work at the plant, and the utility said it would offer retraining or
   transfers.

H: Wildfire season starts early as {region} bakes
I: wildfire prevention
L: Firefighters in {region} have responded to more than {n} wildfires this year, weeks before
   the traditional start of fire season.
D: Scientists say hotter, drier summers linked to {climate} are lengthening fire seasons across
   the region.

H: {last} signs law requiring utilities to cut emissions
I: emissions standards
L: Governor {name} signed a law Thursday requiring electric utilities to cut carbon emissions
   {share} percent below current levels by {year}.
D: The state's largest utility estimates the changes would add about {rate} percent to average
   monthly bills over the next decade.

H: Offshore wind project off {place} delayed again
I: offshore wind
L: Developers of a wind farm planned off the coast near {place} said the project would be
   delayed at least {small} more months because of supply chain problems.
D: The project was expected to supply about {pct2} percent of the state's electricity when
   complete.

H: {place} residents sue over contaminated wells
I: drinking water safety
L: A group of residents in {place} filed suit against a chemical manufacturer, alleging that
   industrial solvents seeped into private drinking water wells.
D: Testing found contamination levels up to {small} times the state's recommended limit.

H: State weighs ban on gas hookups in new homes
I: home energy rules
L: A state panel opened hearings on a proposal to prohibit natural gas hookups in newly built
   homes, drawing more than {n} public comments.
D: The rule would not affect existing homes or commercial kitchens, according to the draft.

H: Pipeline expansion through {region} wins key permit
I: pipeline permits
L: {agency} granted a key permit for a pipeline expansion that would carry natural gas across
   {region}, a project backers say will boost {drilling}.
D: State geologists said the route avoids the most sensitive wetlands but crosses {small}
   streams.

H: Electric vehicle rebates run dry months early
I: electric vehicle incentives
L: The state's electric vehicle rebate program ran out of money {small} months ahead of
   schedule, {agency} said, after demand far exceeded projections.
D: The program has issued about {n2} rebates since it began, averaging ${rebate} each.

H: Flooding damages {n} homes as river crests in {place}
I: flood protection
L: Floodwaters damaged about {n} homes in {place} after the river crested {small} feet above
   flood stage on Sunday.
D: Emergency officials urged residents to document their losses for insurance and disaster aid
   claims.

H: {last} proposes {money_s} for forest thinning
I: forest management
L: {official} proposed {bill}, which would spend {money_s} to thin overgrown forests and clear
   brush near towns at high risk of wildfire.
D: Forestry officials said about {n2} acres in the state are considered at high risk.
"""

ENVIRONMENT_PARTS = """
[roles]
- Governor
- State Senator
- Representative
- Natural Resources Commissioner
- Mayor
[agencies]
- the state Environmental Quality Board
- the Department of Natural Resources
- the state Energy Office
- the Environmental Protection Division
[bills]
- the Wildfire Readiness Act
- the Forest Resilience Act
- the Community Fire Safety Act
- the Woodland Management Act
[details]
- State regulators said they would take public comment through {month} before finalizing any
  changes.
- The debate comes as {climate} and rising energy costs weigh on voters across the region.
- The state has set aside {money} for grid upgrades needed to connect new power sources.
- Environmental regulators have faced staffing shortages that slowed permit reviews, officials
  said.
- Utility officials said they expect electricity demand to grow as more homes and vehicles
  switch to electric power.
- Farm groups said they are watching the decision closely because of its effects on land and
  water use.
- Debate over {regulation} has become a flashpoint in the legislature this year.
- Both supporters and opponents said they expect the dispute to end up in court.
[left]
- Environmental justice groups said communities living next to polluting plants have waited
  too long for clean air and water.
- "The climate crisis is here, and the families with the least are paying the highest price,"
  said {speaker}.
- Advocates urged the state to hold polluters accountable and use penalties to clean up
  contaminated neighborhoods.
- "Every year we delay the shift to clean energy, the bill for floods and fires gets bigger,"
  said {speaker}.
- Climate activists said fossil fuel companies have spent decades blocking policies that would
  protect communities from extreme weather.
- Supporters said a just transition must guarantee good union jobs for workers leaving coal and
  gas.
[center]
- Energy analysts said the effect on bills will depend heavily on natural gas prices and how
  quickly new transmission lines are built.
- "There are real trade-offs between reliability, cost and emissions, and the plan tries to
  balance all three," said {speaker}.
- Farm groups and conservation organizations both said they would monitor the policy's effects
  before taking a firm position.
- A review by independent engineers found that the grid could absorb the changes but would need
  upgrades within {small} years.
- Supporters point to cleaner air and new construction jobs, while critics cite higher costs;
  studies of similar policies elsewhere have reached mixed conclusions.
- State officials said they would publish annual reports tracking emissions, costs and
  reliability.
[right]
- Business groups warned that the mandate would drive up electricity bills and make the grid
  less reliable during peak demand.
- "Families shouldn't be forced to pay more for power so politicians can meet arbitrary
  targets," said {speaker}.
- Opponents called the rules an example of government overreach that takes choices away from
  homeowners and builders.
- Energy industry leaders said domestic energy production keeps prices low and supports
  thousands of well-paying jobs in the region.
- "Instead of shutting down reliable plants, we should cut permitting red tape and let every
  energy source compete," said {speaker}.
- Farm groups said environmental rules written in the capital often ignore the realities of
  rural life and agriculture.
"""

TECHNOLOGY_STORIES = """
H: Data privacy bill advances in state senate
I: data privacy
L: A bill that would give residents the right to see, correct and delete personal data held by
   companies cleared a key state senate committee on Tuesday by a {votes} vote.
D: The measure now goes to the full chamber, where its prospects are uncertain.

H: State to spend {money_s} on rural broadband in {region}
I: broadband expansion
L: {agency} announced {money_s} in grants to extend high-speed internet service to about {n2}
   homes and businesses in rural {region}.
D: State data show that about {pct2} percent of rural households lack reliable high-speed
   service.

H: {last} proposes age checks for social media apps
I: social media and teens
L: {official} proposed legislation that would require social media platforms to verify users'
   ages and get parental consent before minors can open accounts.
D: Several other states have passed similar laws, though some have been blocked in court.

H: Data center near {place} seeks {money_s} tax break
I: data center incentives
L: A developer planning a large data center near {place} has asked for a property tax
   abatement worth an estimated {money_s} over {small} years.
D: The facility would use roughly as much electricity as {n2} homes, according to the local
   utility.

H: Police use of facial recognition draws scrutiny in {place}
I: facial recognition
L: The {place} police department has used facial recognition software in more than {n}
   investigations since last year, according to records obtained through a public records
   request.
D: Studies have found that some facial recognition systems misidentify people with darker skin
   at higher rates.

H: Ransomware attack cripples {place} city services
I: cybersecurity
L: A ransomware attack knocked out billing, permitting and court systems in {place} for {small}
   days, city officials said.
D: Officials said there was no evidence that residents' personal data had been stolen, though
   the investigation continues.

H: AI hiring tools face new disclosure rules
I: artificial intelligence rules
L: Employers that use automated tools to screen job applicants will have to tell candidates
   under rules adopted by {agency} this week.
D: The rules take effect in {month} and apply to employers with more than {n} workers.

H: Software firm cuts {n} jobs at {place} campus
I: tech industry jobs
L: A software company said it would lay off {n} employees at its {place} campus as it shifts
   spending toward artificial intelligence.
D: The company said affected workers would receive {small} months of severance pay.

H: Chipmaker picks {place} for {money} plant
I: semiconductor manufacturing
L: A semiconductor maker said it chose {place} for a {money} manufacturing plant expected to
   employ about {n} people when it opens.
D: Officials said construction would also bring hundreds of temporary jobs over the next
   {small} years.

H: State sues game developer over children's data
I: children's online privacy
L: {agency} filed suit against a mobile game developer, alleging that it collected children's
   location data without parental consent.
D: The lawsuit seeks civil penalties of up to ${penalty} per violation.

H: Gig drivers in {place} push for minimum pay rules
I: gig worker pay
L: App-based delivery and rideshare drivers rallied outside {place} city hall, calling for a
   minimum pay standard for each mile and hour worked.
D: Drivers said their earnings after expenses have fallen about {pct2} percent over the past
   two years.

H: {region} schools ban phones during class
I: phones in schools
L: School boards across {region} voted to ban student phone use during class time starting in
   {month}, citing distraction and bullying concerns.
D: Districts that adopted similar rules last year reported fewer disciplinary incidents,
   administrators said.
"""

TECHNOLOGY_PARTS = """
[roles]
- Governor
- State Senator
- Representative
- Attorney General
- Assemblymember
[agencies]
- the Office of Digital Affairs
- the Consumer Protection Bureau
- the state Technology Office
- the Attorney General's office
[bills]
- the Consumer Data Rights Act
- the Digital Safety Act
- the Connected Communities Act
- the Automated Decisions Transparency Act
[details]
- Lawmakers are also weighing how to regulate {big_tech} without stifling smaller startups.
- Industry groups say compliance costs for smaller companies could run into the millions.
- The state's technology sector employs about {n2} people, according to labor data.
- Officials said the federal government has yet to set national standards, leaving states to
  act on their own.
- Debate over {regulation} in the tech sector is expected to continue in the next session.
- Consumer complaints about online data use have risen steadily over the past {small} years,
  according to {agency}.
- Several of the companies involved did not respond to requests for comment.
- Experts said enforcement will depend on how much funding regulators receive.
[left]
- Privacy advocates said the state must rein in Big Tech monopolies that profit from tracking
  every click.
- "Workers shouldn't be hired or fired by a black-box algorithm they can't see or challenge,"
  said {speaker}.
- Civil liberties groups warned that surveillance tools threaten communities of color and have
  led to wrongful arrests.
- Labor organizers said tech companies treat workers as disposable even as executives collect
  record pay.
- "Public money should not subsidize a data center that drains our water and gives back a few
  dozen jobs," said {speaker}.
- Advocates said residents, not tech companies, should own the data collected about their lives.
[center]
- Experts said the proposal attempts to balance consumer protection with the compliance burden
  on small businesses, and amendments are likely.
- "The technology is moving faster than the rules, and lawmakers are trying to avoid both
  overreach and inaction," said {speaker}.
- Studies on technology's effects on teenagers have produced mixed findings, and researchers
  caution against simple conclusions.
- Economic development officials and skeptics disagree over how many permanent jobs tech
  projects create relative to the incentives they receive.
- The state is among roughly a dozen considering similar rules, and officials say they are
  watching how enforcement plays out elsewhere.
- Industry representatives and consumer advocates both testified, offering competing estimates
  of costs and benefits.
[right]
- Tech industry groups warned that a patchwork of state rules would smother innovation and
  drive startups elsewhere.
- "Parents, not state regulators, should decide what apps their kids use," said {speaker}.
- Critics said government technology programs too often pick winners instead of letting private
  providers compete.
- Business leaders said lower taxes and lighter regulation are what attract investment and good
  jobs.
- "Heavy-handed rules on AI will hand our competitors an advantage and cost us the next
  generation of jobs," said {speaker}.
- Conservative lawmakers said the platforms have silenced users for their political views and
  should face scrutiny over content moderation.
"""

ELECTIONS_STORIES = """
H: Turnout in {place} mayoral race hits {share} percent
I: voter turnout
L: Turnout in {place}'s mayoral election reached {share} percent, according to unofficial
   results posted by {agency}, up sharply from the last comparable race.
D: Officials said about {n2} ballots were cast by mail.

H: {last} launches bid for governor
I: the governor's race
L: {official} formally announced a campaign for governor on Saturday at a rally in {place},
   promising to focus on housing costs and public safety.
D: The field for the open seat now includes {small} declared candidates.

H: New district maps in {region} face court challenge
I: redistricting
L: A coalition of voters filed suit challenging newly drawn legislative districts in {region},
   arguing the maps dilute the influence of minority communities.
D: The case is expected to reach the state supreme court before the candidate filing deadline
   in {month}.

H: Bill would require photo ID for mail ballots
I: voter ID rules
L: {official} introduced {bill}, which would require voters to include a copy of a photo ID
   with their mail ballots.
D: The proposal would take effect for elections held after {month} of next year.

H: {region} cuts early voting sites, sparking complaints
I: early voting
L: {region} will operate {small} fewer early voting sites this year than in the last election,
   {agency} confirmed, citing staffing and budget constraints.
D: County clerks said recruiting poll workers has become harder since the last election.

H: Recount confirms {last} won council seat by {count} votes
I: the recount
L: A hand recount confirmed that {name} won a seat on the {place} city council by {count}
   votes, ending a weeks-long dispute.
D: A post-election audit of {small} randomly selected precincts also matched the machine count.

H: Outside groups pour {money_s} into state senate race
I: campaign finance
L: Outside spending in a closely watched state senate race has topped {money_s}, according to
   filings with {agency}.
D: Much of the money came from groups that are not required to disclose their donors.

H: {last} concedes {region} commission race
I: the county commission race
L: {name} conceded the race for the {region} commission on Wednesday after final tallies showed
   a margin of {n} votes.
D: Turnout in the race was {share} percent, according to the county elections office.

H: Poll shows tight race for open {region} seat
I: the open seat race
L: A new poll shows the race for an open legislative seat in {region} within the margin of
   error, with {pct2} percent of likely voters still undecided.
D: The poll of {n} likely voters has a margin of error of plus or minus {moe} percentage points.

H: {place} voters approve ranked-choice voting
I: ranked-choice voting
L: Voters in {place} approved a ballot measure adopting ranked-choice voting for city
   elections, with {major} percent in favor.
D: The new system will be used for the first time in next year's municipal elections.

H: Ethics panel fines campaign ${fine} over unreported donations
I: campaign finance
L: {agency} fined a state house campaign ${fine} for failing to report contributions from a
   political action committee.
D: The campaign said the missed disclosures were a clerical error and have since been
   corrected.

H: Lawmakers move to extend mail ballot deadline
I: mail-in voting
L: A state house committee voted {votes} to allow mail ballots postmarked by Election Day to be
   counted if they arrive within {small} days.
D: Election officials said about {n2} mail ballots arrived late and were rejected in the last
   statewide election.
"""

ELECTIONS_PARTS = """
[roles]
- State Senator
- Representative
- Secretary of State
- Assemblymember
- Councilmember
[agencies]
- the state Elections Board
- the Secretary of State's office
- the State Ethics Commission
- the county elections office
[bills]
- the Ballot Verification Act
- the Mail Ballot Security Act
- the Voter Confidence Act
- the Absentee Ballot Standards Act
[details]
- The debate reflects a broader national fight over {voting} ahead of next year's elections.
- Election officials said they had found no evidence of significant irregularities.
- Election officials are urging voters to check their registration status before the deadline
  in {month}.
- Both parties are expected to spend heavily in the state ahead of next year's elections.
- The state certifies results about {small} weeks after Election Day.
- Voter registration in the state has grown by about {n2} over the past year, according to
  {agency}.
- Several legal challenges over election procedures are pending in state court.
- County election offices said they are preparing for a surge in requests for mail ballots.
[left]
- Voting rights advocates said the changes would make it harder for students, older voters and
  people of color to cast a ballot.
- "When you close polling places in working-class neighborhoods, you are choosing who gets to
  vote," said {speaker}.
- Democracy reform groups said unlimited dark money lets wealthy donors drown out ordinary
  voters.
- Civil rights organizations said gerrymandered maps are designed to silence growing
  communities.
- "There is no evidence of widespread fraud, only evidence that these rules keep eligible
  citizens from voting," said {speaker}.
- Organizers said they would expand voter registration drives on campuses and in immigrant
  neighborhoods.
[center]
- Election experts said both parties have sought advantages through redistricting, and courts
  have applied inconsistent standards.
- "Voters want elections that are both accessible and secure, and most of the public supports
  some version of each," said {speaker}.
- Studies of photo ID requirements have found small or statistically insignificant effects on
  turnout, though results vary by state.
- Party leaders on both sides claimed the result as a sign of momentum, while analysts cautioned
  that local races rarely predict statewide trends.
- The state's audit procedures are similar to those used in most other states, according to a
  review by an independent elections project.
- Election administrators said clear rules set well before Election Day matter more to smooth
  voting than any single policy.
[right]
- Supporters said photo ID requirements are a common-sense safeguard that most voters already
  support.
- "If you need an ID to board a plane or buy cold medicine, you should need one to choose our
  leaders," said {speaker}.
- Conservative groups said accurate voter rolls and secure ballot handling are essential to
  restoring public trust.
- Critics of late-arriving ballots said they invite delays and confusion, and that results
  should be known on election night.
- "Election integrity shouldn't be partisan; every legal vote should count and every illegal one
  should be stopped," said {speaker}.
- Supporters said cleaning up outdated voter rolls ensures that every legitimate ballot counts.
"""

CRIME_STORIES = """
H: Violent crime in {place} down {pct} percent, police data show
I: violent crime
L: Violent crime in {place} fell {pct} percent in the first half of the year compared with the
   same period last year, according to police department data.
D: Police officials credited targeted patrols and community partnerships, while noting that
   property crimes remained stubbornly high.

H: {last} signs bill ending cash bail for low-level offenses
I: bail reform
L: Governor {name} signed legislation Tuesday eliminating cash bail for most misdemeanors and
   some nonviolent felonies.
D: The law takes effect in {month}, and judges will still be able to detain {offenders} deemed a
   danger to the community.

H: Police break up retail theft ring after {small}-month probe
I: retail theft
L: Investigators arrested {count} people accused of running an organized retail theft ring that
   stole goods worth more than {money_s} from stores across {region}.
D: Prosecutors said the group resold the stolen merchandise through online marketplaces.

H: {place} council approves {money_s} police budget
I: police funding
L: The {place} city council approved a {money_s} police budget on a {votes} vote after hours of
   public comment.
D: The budget funds {count} new officer positions and expands a mental health crisis response
   team.

H: Charges dropped in {place} shooting case
I: wrongful prosecution
L: The county prosecutor's office said it would dismiss charges against a man accused in a
   {place} shooting after new evidence raised doubts about witness identifications.
D: The man had spent {small} months in jail awaiting trial.

H: Prison crowding prompts early release plan
I: prison overcrowding
L: With state prisons operating at {over} percent of capacity, corrections officials proposed
   releasing some people convicted of nonviolent offenses up to {small} months early.
D: The state Sentencing Commission estimated the change would reduce the prison population by
   about {n} people.

H: {last} bill would toughen penalties for fentanyl dealers
I: drug penalties
L: {official} introduced {bill}, which would impose longer mandatory sentences for selling
   fentanyl near schools and parks.
D: The state recorded about {n} overdose deaths involving fentanyl last year, according to
   health officials.

H: Homicides fall in {region} for second straight year
I: gun violence
L: Homicides in {region} declined for the second straight year, falling to {count} from
   {count2} the year before.
D: Officials said most of the killings involved firearms, and many stemmed from disputes between
   people who knew each other.

H: Judge orders new trial after prosecutors withheld evidence
I: fair trials
L: A judge ordered a new trial for a man convicted of armed robbery, ruling that prosecutors
   failed to disclose evidence that could have helped the defense.
D: The defendant had served {small} years of a {sentence}-year sentence before the ruling.

H: State to require body cameras for all patrol officers
I: police accountability
L: Every police department in the state will be required to equip patrol officers with body
   cameras by {year}, under a law signed this week.
D: Lawmakers set aside {money_s} to help smaller departments pay for cameras and data storage.

H: {n2} old convictions to be sealed automatically
I: criminal records
L: About {n2} old convictions for low-level offenses will be sealed automatically under a
   program launched by {agency} this month.
D: People with sealed records will no longer have to disclose those convictions on most job and
   housing applications.

H: {last} calls for more officers after spike in car thefts
I: car thefts
L: {official} called for hiring {count} more officers after car thefts in {place} rose {pct}
   percent over the past year.
D: {police} said many of the stolen vehicles lacked modern anti-theft technology.
"""

CRIME_PARTS = """
[roles]
- Governor
- State Senator
- Attorney General
- Representative
- Mayor
[agencies]
- the state Bureau of Investigation
- the Department of Corrections
- the state Judicial Council
- the Department of Public Safety
[bills]
- the Safe Communities Act
- the Fentanyl Accountability Act
- the Drug Trafficking Penalties Act
- the School Zone Safety Act
[details]
- Data from {agency} show that {share} percent of people released from prison return within
  three years.
- Officials said the department has struggled to fill vacancies, with dozens of positions
  currently open.
- {police} across the region have reported difficulty recruiting and retaining officers.
- The state's overall crime rate remains well below its peak of three decades ago, according to
  long-term data.
- Prosecutors and defense attorneys said court backlogs have delayed many cases by months.
- Lawmakers are expected to debate several public safety bills before the session ends
  in {month}.
- Victim services organizations said demand for their help has grown over the past year.
- The measure drew testimony from police chiefs, public defenders and crime survivors.
[left]
- Criminal justice reform advocates said cash bail punishes poverty, keeping people locked up
  simply because they cannot afford to pay.
- "Safety comes from stable housing, good jobs and mental health care, not from locking up more
  people," said {speaker}.
- Civil rights groups said harsher sentencing repeats the failures of the war on drugs, which
  fell hardest on Black and Latino communities.
- Advocates urged officials to shift some police funding toward violence interruption programs
  and youth services.
- "A system that hides evidence from the defense isn't justice," said {speaker}.
- Advocates said investing in housing, treatment and youth jobs prevents more crime than longer
  sentences.
[center]
- Criminologists cautioned that crime trends are influenced by many factors and that a single
  year of data does not establish a lasting pattern.
- "The research on these changes is still developing, and results have varied depending on how
  the laws are written," said {speaker}.
- Police leaders and reform advocates agreed on the need for more mental health responders but
  disagreed on how to pay for them.
- An independent analysis found that similar policies in other states had little measurable
  effect on overall crime rates.
- Prosecutors and public defenders each said the measure contained provisions they supported
  and others they hoped to change.
- Data on the policy's effects will not be available until next year, officials said.
[right]
- Law enforcement groups warned that lenient policies put repeat offenders back on the street
  within hours of arrest.
- "Our officers are doing their jobs, and they deserve lawmakers who have their backs,"
  said {speaker}.
- Business owners said years of lenient prosecution have emboldened thieves and left
  shopkeepers to absorb the losses.
- Victims' rights advocates said early release puts communities at risk and breaks faith with
  the families of crime victims.
- "Law and order is the foundation of everything else; without safe streets, no neighborhood
  can thrive," said {speaker}.
- Supporters of tougher enforcement said real consequences deter crime and that soft penalties
  invite more of it.
"""

FOREIGN_STORIES = """
H: {last} arrives in {country} for ceasefire talks
I: the ceasefire talks
L: {official} arrived in the {country} capital on Monday for talks aimed at extending a fragile
   ceasefire with neighboring {country2}.
D: The ceasefire, agreed to in {month}, has been violated repeatedly along the border,
   according to international monitors.

H: Lawmakers approve {money} aid package for {country}
I: foreign aid
L: Lawmakers approved a {money} package of {military_aid} and humanitarian support for
   {country} on a {tally} vote late Thursday.
D: The package includes about {money_s} for food and medical supplies, with the rest set aside
   for air defense.

H: New sanctions on {country} after missile test
I: sanctions policy
L: The government announced new sanctions on {country}'s defense and banking sectors after the
   country conducted its {ordinal} missile test of the year.
D: Officials said the sanctions would freeze assets held by {count} individuals and companies.

H: Trade talks with {country} stall over farm tariffs
I: trade policy
L: Negotiations over a trade agreement with {country} have stalled over tariffs on farm goods
   and rules for digital services, officials said.
D: Farm exports to {country} were worth about {money} last year, according to trade data.

H: {country} and {country2} swap prisoners in mediated deal
I: prisoner exchanges
L: {country} and {country2} exchanged {count} detainees on Sunday in a deal brokered by
   regional mediators.
D: The swap was the {ordinal} such exchange since the conflict began.

H: Embassy in {country} cuts staff amid unrest
I: embassy security
L: The embassy in {country} ordered nonessential staff and their families to leave after days
   of protests and clashes in the capital.
D: About {n2} citizens are registered as living in {country}, and officials urged them to make
   departure plans.

H: Navy ships sent to patrol strait off {country}
I: naval deployments
L: {small} navy ships were dispatched to patrol the strait off {country}, where commercial
   vessels have reported harassment by patrol boats.
D: Shipping companies say insurance costs for vessels using the route have risen {pct} percent.

H: Bill would require audits of all foreign aid
I: foreign aid oversight
L: Senator {name} introduced {bill}, which would require independent audits of all foreign
   assistance programs above {money_s}.
D: The sponsor said the audits would cost a small fraction of the programs they review.

H: Summit on {country} border dispute ends without deal
I: the border dispute
L: A two-day summit on the border dispute between {country} and {country2} ended without an
   agreement, though both sides pledged to keep talking.
D: Diplomats said the talks made progress on water rights and trade corridors but not on the
   disputed territory itself.

H: Tariffs on {country} steel to rise {pct} percent
I: steel tariffs
L: Tariffs on steel imports from {country} will rise by {pct} percent next month, the trade
   office announced, citing unfair government subsidies.
D: The increase applies to about {money} worth of annual imports.

H: {last} warns {country} against blocking shipping lanes
I: shipping lanes
L: {official} warned {country} on Wednesday that any attempt to block international shipping
   lanes would bring serious consequences.
D: Analysts said the warning was likely intended to send a message ahead of next month's
   regional summit.

H: Thousands flee {country} as fighting spreads
I: the refugee crisis
L: Tens of thousands of people have fled {country} since fighting spread to its northern
   provinces, according to aid agencies.
D: Aid groups said camps across the border in {country2} are overcrowded and short on clean
   water.
"""

FOREIGN_PARTS = """
[roles]
- Senator
- Foreign Minister
- Defense Secretary
- Ambassador
- Representative
[agencies]
- the foreign ministry
- the defense ministry
- the trade office
- the national security council
[bills]
- the Foreign Aid Accountability Act
- the Allied Security Act
- the Overseas Assistance Transparency Act
- the Global Partnerships Act
[details]
- Officials said the government would consult with allies before taking further steps.
- {agency} said it had been in contact with counterparts in the region.
- The region has seen repeated flare-ups of tension over the past {small} years.
- Lawmakers are expected to hold hearings on the matter when they return in {month}.
- Diplomats from several neighboring countries have offered to host further talks.
- Analysts said energy prices and shipping routes could be affected if tensions escalate.
- Officials declined to discuss intelligence assessments but said they were monitoring the
  situation closely.
- The foreign ministry in {country2} did not respond to a request for comment.
[left]
- Peace advocates urged the government to prioritize diplomacy and humanitarian relief over
  sending more weapons into the conflict.
- "Every dollar spent on bombs is a dollar not spent on rebuilding schools and hospitals here at
  home," said {speaker}.
- Human rights groups said any deal with {country} should include enforceable protections for
  workers and political prisoners.
- Critics said tariffs raise prices for working families while doing little to help
  steelworkers.
- "We have a moral obligation to welcome refugees fleeing violence, not to turn them away,"
  said {speaker}.
- Advocates said sanctions often hurt ordinary civilians more than the leaders they target.
[center]
- Foreign policy analysts said the outcome will likely depend on whether regional powers
  continue to back the talks.
- "There are legitimate arguments on both sides about cost and risk, and the votes reflected
  that division," said {speaker}.
- Economists said tariffs could help domestic producers in the short run but may raise costs for
  manufacturers that buy steel.
- The policy drew support and opposition from members of both parties, reflecting divisions
  that do not break cleanly along party lines.
- Independent monitors said both sides in the dispute have violated earlier agreements,
  complicating efforts to assign blame.
- Allied governments offered varied reactions, with some urging restraint and others backing a
  firmer response.
[right]
- Hawkish lawmakers said the government has been too slow to act and that weakness only invites
  aggression from hostile regimes.
- "Peace comes through strength, and our adversaries need to know we will defend our interests,"
  said {speaker}.
- Fiscal conservatives demanded strict oversight of overseas spending, saying taxpayers deserve
  to know where every dollar goes.
- Supporters of tariffs said they protect domestic manufacturing jobs from countries that cheat
  on trade.
- "We should stop writing blank checks overseas and put our own citizens and our own border
  first," said {speaker}.
- Defense hawks said cutting military budgets while adversaries rearm would be a dangerous
  mistake.
"""

TOPIC_SOURCES = {
    "economy": (ECONOMY_STORIES, ECONOMY_PARTS),
    "health": (HEALTH_STORIES, HEALTH_PARTS),
    "immigration": (IMMIGRATION_STORIES, IMMIGRATION_PARTS),
    "environment": (ENVIRONMENT_STORIES, ENVIRONMENT_PARTS),
    "technology": (TECHNOLOGY_STORIES, TECHNOLOGY_PARTS),
    "elections": (ELECTIONS_STORIES, ELECTIONS_PARTS),
    "crime_justice": (CRIME_STORIES, CRIME_PARTS),
    "foreign_policy": (FOREIGN_STORIES, FOREIGN_PARTS),
}


@dataclass(frozen=True)
class Story:
    """One news event: a headline, its issue phrase, a lead and a detail sentence."""

    headline: str
    issue: str
    lead: str
    detail: str


@dataclass(frozen=True)
class Topic:
    """All building blocks for one topic."""

    stories: tuple[Story, ...]
    details: tuple[str, ...]
    agencies: tuple[str, ...]
    bills: tuple[str, ...]
    roles: tuple[str, ...]
    slant: dict[str, tuple[str, ...]]


def _items(text: str) -> list[str]:
    """Parse a bullet list: "- " opens an item, any other non-blank line continues it."""
    items: list[str] = []
    for raw in text.strip().splitlines():
        line = raw.strip()
        if line.startswith("- "):
            items.append(line[2:])
        elif line:
            items[-1] = f"{items[-1]} {line}"
    return items


def _sections(text: str) -> dict[str, list[str]]:
    """Parse bullet lists headed by "[name]" lines into {name: items}."""
    sections: dict[str, list[str]] = {}
    name, chunk = "", []
    for line in [*text.strip().splitlines(), "[end]"]:
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            if name:
                sections[name] = _items("\n".join(chunk))
            name, chunk = stripped[1:-1], []
        else:
            chunk.append(line)
    return sections


def _parse_story(block: str) -> Story:
    """Parse one story block of "H:", "I:", "L:" and "D:" fields (indented lines continue)."""
    fields: dict[str, str] = {}
    key = ""
    for raw in block.strip().splitlines():
        line = raw.strip()
        if line[:2] in STORY_KEYS:
            key = line[0]
            fields[key] = line[2:].strip()
        else:
            fields[key] = f"{fields[key]} {line}"
    return Story(fields["H"], fields["I"], fields["L"], fields["D"])


def _topic(stories: str, parts: str) -> Topic:
    """Build a Topic from its story text and its sectioned parts text."""
    sec = _sections(parts)
    return Topic(
        stories=tuple(_parse_story(block) for block in stories.strip().split("\n\n")),
        details=tuple(sec["details"]),
        agencies=tuple(sec["agencies"]),
        bills=tuple(sec["bills"]),
        roles=tuple(sec["roles"]),
        slant={leaning: tuple(sec[leaning]) for leaning in LEANINGS},
    )


TOPICS = {name: _topic(*texts) for name, texts in TOPIC_SOURCES.items()}
SHARED = {leaning: tuple(_items(text)) for leaning, text in SHARED_FRAMING.items()}
HEADLINES = {leaning: tuple(_items(text)) for leaning, text in LEANING_HEADLINES.items()}
DESCRIPTORS = {leaning: tuple(_items(text)) for leaning, text in SPEAKERS.items()}
NEUTRAL_SENTENCES = tuple(_items(NEUTRAL))


def _csv(text: str) -> tuple[str, ...]:
    """Split a comma-separated word list (line breaks allowed) into a tuple."""
    return tuple(word.strip() for word in text.split(","))


FIRST_NAMES, LAST_NAMES, PLACES, REGIONS, COUNTRIES, SMALL_WORDS, ORDINALS = (
    _csv(NAME_LISTS[key]) for key in ("first", "last", "place", "region", "country", "small", "ordinal")
)


def _pct(rng: random.Random, low: float, high: float) -> str:
    """A percentage with one decimal place."""
    return f"{rng.uniform(low, high):.1f}"


def _money(rng: random.Random) -> str:
    """A state-scale amount: hundreds of millions or a few billion dollars."""
    if rng.random() < 0.5:
        return f"${rng.randint(12, 95) * 10} million"
    return f"${rng.uniform(1.1, 9.8):.1f} billion"


def _money_small(rng: random.Random) -> str:
    """A local-scale amount: a few million dollars."""
    return f"${rng.uniform(1.2, 89.0):.1f} million"


def _votes(rng: random.Random, sizes: tuple[int, ...]) -> str:
    """A winning vote tally such as "7-4" for a body of one of the given sizes."""
    total = rng.choice(sizes)
    yes = rng.randint(total // 2 + 1, total - 1)
    return f"{yes}-{total - yes}"


def _numbers(rng: random.Random) -> dict[str, str]:
    """Random numeric slot values for one article."""
    count = rng.randint(8, 96)
    return {
        "small": rng.choice(SMALL_WORDS),
        "ordinal": rng.choice(ORDINALS),
        "n": str(rng.randint(40, 980)),
        "n2": f"{rng.randint(12, 480) * 100:,}",
        "n3": f"{rng.randint(12, 480) * 100:,}",
        "count": str(count),
        "count2": str(count + rng.randint(5, 40)),
        "pct": _pct(rng, 1.5, 24.0),
        "pct2": _pct(rng, 1.5, 24.0),
        "rate": _pct(rng, 2.1, 6.9),
        "rate2": _pct(rng, 2.1, 6.9),
        "share": str(rng.randint(12, 68)),
        "major": str(rng.randint(51, 72)),
        "over": str(rng.randint(108, 135)),
        "sentence": str(rng.randint(15, 30)),
        "money": _money(rng),
        "money_s": _money_small(rng),
        "votes": _votes(rng, (7, 9, 11, 13)),
        "tally": _votes(rng, (100, 435)),
        "wage": str(rng.choice((15, 16, 17, 18, 20))),
        "rent": f"{rng.randint(14, 29) * 100:,}",
        "income": f"{rng.randint(40, 65) * 1000:,}",
        "cap": str(rng.choice((25, 30, 35, 50))),
        "rebate": f"{rng.choice((1500, 2000, 2500, 3000, 4000)):,}",
        "penalty": f"{rng.choice((2500, 5000, 7500, 10000)):,}",
        "fine": f"{rng.randint(5, 40) * 1000:,}",
        "moe": _pct(rng, 3.1, 4.9),
        "year": str(rng.randint(2027, 2032)),
        "year0": str(rng.randint(2019, 2022)),
        "month": rng.choice(MONTHS),
    }


def _lexicon(rng: random.Random, leaning: str) -> dict[str, str]:
    """Leaning-specific word choices, with some drawn from another leaning as noise."""
    own = LEANINGS.index(leaning)
    return {
        key: variants[own if rng.random() < OWN_WORD_RATE else rng.randrange(3)] for key, variants in LEXICON.items()
    }


def _places(rng: random.Random) -> dict[str, str]:
    """Fictional place, county and country names."""
    country, country2 = rng.sample(COUNTRIES, 2)
    return {"place": rng.choice(PLACES), "region": rng.choice(REGIONS), "country": country, "country2": country2}


def _people(rng: random.Random, topic: Topic, leaning: str) -> dict[str, str]:
    """The main official and two quoted speakers of the article's leaning."""
    names: list[str] = []
    while len(names) < 3:
        candidate = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        if candidate not in names:
            names.append(candidate)
    name, *others = names
    descriptors = rng.sample(DESCRIPTORS[leaning], 2)
    return {
        "name": name,
        "last": name.split()[-1],
        "official": f"{rng.choice(topic.roles)} {name}",
        "speaker0": f"{others[0]}, {descriptors[0]}",
        "speaker1": f"{others[1]}, {descriptors[1]}",
    }


def _context(rng: random.Random, topic: Topic, leaning: str, story: Story) -> dict[str, str]:
    """Every slot value for one article."""
    ctx = _numbers(rng) | _lexicon(rng, leaning) | _places(rng) | _people(rng, topic, leaning)
    ctx |= {"agency": rng.choice(topic.agencies), "bill": rng.choice(topic.bills), "issue": story.issue}
    return ctx


def _fill(template: str, ctx: dict[str, str]) -> str:
    """Fill a template's slots and capitalise its first letter."""
    text = template.format_map(ctx)
    return text[0].upper() + text[1:]


def _fill_all(templates: list[str], ctx: dict[str, str]) -> list[str]:
    """Fill sentences in order, giving successive quotes different speakers."""
    sentences, quotes = [], 0
    for template in templates:
        sentences.append(_fill(template, ctx | {"speaker": ctx[f"speaker{quotes % 2}"]}))
        quotes += "{speaker}" in template
    return sentences


def _framing(rng: random.Random, topic: Topic, leaning: str) -> list[str]:
    """Two leaning sentences (topic-specific and shared), sometimes one swapped for a neutral one."""
    picks = [rng.choice(topic.slant[leaning]), rng.choice(SHARED[leaning])]
    if rng.random() < NEUTRAL_SWAP_RATE:
        picks[rng.randrange(2)] = rng.choice(NEUTRAL_SENTENCES)
    if rng.random() < 0.5:
        picks.reverse()
    if rng.random() < EXTRA_NEUTRAL_RATE:
        picks.append(rng.choice([s for s in NEUTRAL_SENTENCES if s not in picks]))
    return picks


def _facts(rng: random.Random, topic: Topic, story: Story) -> list[str]:
    """The lead, usually the story's detail, and one or two generic topic details."""
    facts = [story.lead]
    if rng.random() < 0.75:
        facts.append(story.detail)
        return [*facts, rng.choice(topic.details)] if rng.random() < 0.6 else facts
    return facts + rng.sample(topic.details, 2)


def _body(rng: random.Random, topic: Topic, leaning: str, story: Story, ctx: dict[str, str]) -> str:
    """The article text: facts, then framing, in one or two paragraphs."""
    facts = _fill_all(_facts(rng, topic, story), ctx)
    framing = _fill_all(_framing(rng, topic, leaning), ctx)
    if rng.random() < TWO_PARAGRAPH_RATE:
        return " ".join(facts) + "\n\n" + " ".join(framing)
    return " ".join(facts + framing)


def _title(rng: random.Random, leaning: str, story: Story, ctx: dict[str, str]) -> str:
    """The story's own headline, or now and then a headline pattern of the leaning."""
    if rng.random() < LEANING_TITLE_RATE:
        return _fill(rng.choice(HEADLINES[leaning]), ctx)
    return _fill(story.headline, ctx)


def _random_date(rng: random.Random) -> str:
    """An ISO date between FIRST_DATE and LAST_DATE."""
    return (FIRST_DATE + timedelta(days=rng.randint(0, (LAST_DATE - FIRST_DATE).days))).isoformat()


def _article(rng: random.Random, topic_name: str, leaning: str, seen: set[str]) -> dict[str, str]:
    """One article whose title is not in `seen` and whose length is in range."""
    topic = TOPICS[topic_name]
    while True:
        story = rng.choice(topic.stories)
        ctx = _context(rng, topic, leaning, story)
        title, content = _title(rng, leaning, story, ctx), _body(rng, topic, leaning, story, ctx)
        if title not in seen and MIN_WORDS <= len(content.split()) <= MAX_WORDS:
            seen.add(title)
            return {
                "title": title,
                "content": content,
                "topic": topic_name,
                "leaning": leaning,
                "source": rng.choice(OUTLETS[leaning]),
                "date": _random_date(rng),
            }


def _cell(rng: random.Random, topic_name: str, leaning: str, seen: set[str]) -> list[dict[str, str]]:
    """All articles for one topic x leaning cell, with a stratified validation share."""
    size = rng.randint(*CELL_SIZES)
    n_validation = round(size * VALIDATION_SHARE)
    rows = [_article(rng, topic_name, leaning, seen) for _ in range(size)]
    for index, row in enumerate(rows):
        row["split"] = "validation" if index < n_validation else "train"
    return rows


def build(seed: int = SEED) -> list[dict[str, str]]:
    """Generate the full sample, ordered by date, with ids s0001, s0002, ..."""
    rng = random.Random(seed)
    seen: set[str] = set()
    rows = [row for topic in TOPICS for leaning in LEANINGS for row in _cell(rng, topic, leaning, seen)]
    rng.shuffle(rows)
    rows.sort(key=lambda row: row["date"])
    keys = ("id", "title", "content", "topic", "leaning", "source", "date", "split")
    return [{key: f"s{i:04d}" if key == "id" else row[key] for key in keys} for i, row in enumerate(rows, 1)]


def write_jsonl(rows: list[dict[str, str]], path: Path) -> None:
    """Write rows as JSON lines atomically (temp file in the same folder, then os.replace)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        os.chmod(tmp, 0o644)  # mkstemp creates 0600 files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def summary(rows: list[dict[str, str]]) -> str:
    """A topic x leaning table of train/validation counts."""
    counts = Counter((row["topic"], row["leaning"], row["split"]) for row in rows)
    lines = [f"{'topic':<16}" + "".join(f"{leaning:>16}" for leaning in LEANINGS) + f"{'total':>8}"]
    for topic in TOPICS:
        cells = [f"{counts[topic, lean, 'train']}/{counts[topic, lean, 'validation']}" for lean in LEANINGS]
        total = sum(counts[topic, lean, split] for lean in LEANINGS for split in ("train", "validation"))
        lines.append(f"{topic:<16}" + "".join(f"{cell:>16}" for cell in cells) + f"{total:>8}")
    n_val = sum(row["split"] == "validation" for row in rows)
    lines.append(f"(train/validation per cell) rows={len(rows)} train={len(rows) - n_val} validation={n_val}")
    return "\n".join(lines)


def main() -> None:
    """Build the sample, write it next to this script and print the counts."""
    rows = build()
    write_jsonl(rows, OUT_PATH)
    print(f"wrote {len(rows)} articles to {OUT_PATH}")
    print(summary(rows))


if __name__ == "__main__":
    main()
