"""The demo's story, as data: Scout, a collaborative research-search tool for teams.

Squads search, save results into shared lists and export them into their documents.
Most new teams search; far fewer get to exporting lists they reuse, so the success gap sits
between First value and Value realization.
"""

MILESTONES = [
    {"key": "problem", "name": "Problem", "phase": "Struggle",
     "rule": "count(visit) >= 1", "success_moment": None, "window_days": None},
    {"key": "interest", "name": "Interest", "phase": "Struggle",
     "rule": "count(search) >= 1", "window_days": 7, "success_moment": "setup"},
    {"key": "first_value", "name": "First value", "phase": "Evaluation",
     "rule": "count(search) >= 5 and count(list_created) >= 1", "window_days": 14,
     "success_moment": "aha"},
    {"key": "value_realization", "name": "Value realization", "phase": "Evaluation",
     "rule": "reached(first_value) and count(search) >= 10 and count(list_created) >= 2 "
             "and count(export) >= 2", "window_days": 30, "success_moment": "eureka"},
    {"key": "continued_value", "name": "Continued value", "phase": "Growth",
     "rule": "reached(value_realization) and days(search) >= 20", "window_days": 60,
     "success_moment": "habit"},
    {"key": "value_growth", "name": "Value growth", "phase": "Growth",
     "rule": "reached(continued_value) and (count(upgrade) >= 1 or count(review_posted) >= 1 "
             "or count(referral_sent) >= 1)", "window_days": 60, "success_moment": None},
]

PQL_RULE = "count(search) >= 60 and count(invite_sent) >= 1"

SQUADS = [
    ("Activation", "Get new teams from first search to lists they export and reuse."),
    ("Collaboration", "Make Scout spread inside a team: shared lists, invites, comments."),
    ("Expansion", "Help teams that rely on Scout grow into more seats and paid plans."),
]
LOOPS = [
    ("Viral invite loop", "Members invite colleagues to shared lists; colleagues join and invite."),
    ("Content & SEO loop", "Public lists rank in search engines and bring new researchers."),
    ("Paid acquisition loop", "Paid campaigns bring sign-ups whose revenue funds more campaigns."),
    ("Sales-assist loop", "Product-qualified teams get a conversation with sales."),
]
AREAS = ["Onboarding", "Search", "Lists", "Sharing & export", "Billing"]

# (title, change, who, outcome, milestone, loop, area, squad, expected acquisition,
#  expected retention, status, result, decision, true lift, key result index (obj, kr) or None,
#  conclusion)
EXPERIMENTS = [
    ("Search templates on the empty state", "showing three search templates on the empty "
     "search page", "new sign-ups", "run five searches in their first two weeks", "first_value",
     "Content & SEO loop", "Onboarding", "Activation", "neutral", "positive", "decided", "won",
     "ship", 0.11, (0, 0), "Templates raised First value by about 11%; most of the lift came "
     "from the 'competitor scan' template."),
    ("Checklist in the sidebar", "a three-step getting-started checklist in the sidebar",
     "new sign-ups", "create their first list sooner", "first_value", "Viral invite loop",
     "Onboarding", "Activation", "neutral", "positive", "decided", "inconclusive", "iterate",
     0.012, (0, 2), "No detectable change in First value; checklist completion was high but "
     "did not change what people did next."),
    ("Save-to-list button on every result", "a one-click save-to-list button on each search "
     "result", "evaluating users", "save results into a list", "first_value",
     "Viral invite loop", "Lists", "Activation", "neutral", "positive", "decided", "won",
     "ship", 0.09, (0, 0), "Saving became the default action; First value rose about 9% with no "
     "drop in searches."),
    ("Export nudge after the second list", "a prompt to export a list once a user has two "
     "lists", "users who reached First value", "export lists into their documents",
     "value_realization", "Viral invite loop", "Sharing & export", "Activation", "neutral",
     "positive", "running", None, None, 0.40, (0, 1), ""),
    ("One-click export to Google Docs", "exporting a list straight into Google Docs",
     "users who reached First value", "export twice in their first month",
     "value_realization", "Content & SEO loop", "Sharing & export", "Activation", "neutral",
     "positive", "decided", "won", "ship", 0.14, (0, 1), "Direct export to Docs raised Value "
     "realization by about 14%; CSV export use fell, as expected."),
    ("Forced tour of exports", "a modal tour of export formats on the third session",
     "users who reached First value", "export more often", "value_realization",
     "Viral invite loop", "Sharing & export", "Activation", "neutral", "negative", "decided",
     "lost", "abandon", -0.08, (0, 1), "The modal tour lowered Value realization by about 8% "
     "and raised early session exits."),
    ("Weekly digest of saved lists", "a Monday e-mail with what changed in saved lists",
     "teams with at least two lists", "come back on more days each month", "continued_value",
     "Content & SEO loop", "Lists", "Collaboration", "neutral", "positive", "decided",
     "inconclusive", "iterate", 0.015, None, "Open rates were good but Continued value did not "
     "move detectably; the digest may need fresher content."),
    ("Invite teammates from a shared list", "an invite box on every shared list",
     "list owners", "invite a colleague", "value_growth", "Viral invite loop", "Sharing & export",
     "Collaboration", "positive", "positive", "decided", "won", "ship", 0.12, (1, 0), "Invites "
     "from lists raised Value growth by about 12%; invited colleagues activated at twice the "
     "rate of cold sign-ups."),
    ("Comment threads on list items", "comments on each saved result", "teams sharing lists",
     "keep coming back to lists together", "continued_value", "Viral invite loop", "Lists",
     "Collaboration", "neutral", "positive", "analysing", None, None, 0.03, (1, 0), ""),
    ("Public list pages indexed by search engines", "letting owners publish a list as a public "
     "page", "list owners", "bring new visitors who search", "interest", "Content & SEO loop",
     "Sharing & export", "Collaboration", "positive", "neutral", "running", None, None, 0.02,
     None, ""),
    ("Referral credit for both sides", "a month of Pro for referrer and referee",
     "teams in Continued value", "refer another team", "value_growth", "Viral invite loop",
     "Billing", "Expansion", "positive", "neutral", "decided", "lost", "abandon", -0.06, (1, 2),
     "Referral credit did not raise Value growth; it lowered upgrades by about 6%, as credits "
     "replaced purchases."),
    ("Annual plan toggle on pricing", "defaulting the pricing page to annual billing",
     "teams considering an upgrade", "upgrade", "value_growth", "Sales-assist loop", "Billing",
     "Expansion", "neutral", "neutral", "decided", "inconclusive", "abandon", -0.01, (1, 2),
     "No detectable effect on upgrades; revenue per upgrade rose but the squad cannot see it "
     "in its own KPI."),
    ("Usage-based upgrade prompt", "an upgrade prompt when a team passes 50 searches a week",
     "product-qualified teams", "upgrade", "value_growth", "Sales-assist loop", "Billing",
     "Expansion", "neutral", "positive", "decided", "won", "ship", 0.10, (1, 2), "The prompt at "
     "a real usage threshold raised upgrades by about 10% without hurting retention."),
    ("Sales outreach to PQL teams", "a call offer from sales to teams crossing the PQL line",
     "product-qualified teams", "upgrade to the team plan", "value_growth", "Sales-assist loop",
     "Billing", "Expansion", "neutral", "neutral", "decided", "invalid", "iterate", 0.05, (1, 2),
     "Invalid: assignment sent 9% more teams to the treatment arm (sample-ratio mismatch); the "
     "routing rule is being fixed before a rerun."),
    ("Search suggestions while typing", "query suggestions from popular searches",
     "new sign-ups", "run their first search", "interest", "Paid acquisition loop", "Search",
     "Activation", "neutral", "positive", "decided", "won", "ship", 0.06, (0, 0), "Suggestions "
     "raised Interest by about 6%, mostly on mobile."),
    ("Shorter sign-up form", "dropping company size and role from sign-up",
     "visitors from paid campaigns", "start searching", "interest", "Paid acquisition loop",
     "Onboarding", "Activation", "positive", "neutral", "decided", "inconclusive", "ship", 0.008,
     None, "No detectable change in Interest; shipped anyway because it removes friction at no "
     "cost, and we lost a segmentation field we rarely used."),
    ("Filters panel open by default", "showing search filters expanded", "evaluating users",
     "refine searches and save more", "first_value", "Content & SEO loop", "Search",
     "Activation", "neutral", "neutral", "decided", "lost", "abandon", -0.05, (0, 0),
     "Open filters lowered First value by about 5%; new users ran fewer, more cautious searches."),
    ("Team workspace on sign-up", "creating a team workspace during sign-up",
     "visitors from invites", "invite colleagues in week one", "value_growth",
     "Viral invite loop", "Onboarding", "Collaboration", "positive", "positive", "decided",
     "inconclusive", "iterate", 0.02, (1, 0), "Too few invited visitors to tell; the estimate "
     "is positive but the interval spans zero."),
    ("List templates gallery", "a gallery of list templates by job", "new sign-ups",
     "create their first list", "first_value", "Content & SEO loop", "Lists", "Activation",
     "neutral", "positive", "decided", "won", "ship", 0.08, (0, 0), "Job-based list templates "
     "raised First value by about 8%."),
    ("Dark mode", "a dark theme", "all users", "come back more often", "continued_value",
     "Content & SEO loop", "Search", "Collaboration", "neutral", "neutral", "archived",
     "stopped_early", "abandon", 0.0, None, "Stopped early: it was a preference, not a "
     "behaviour change; no KPI would move."),
    ("Slack notifications for list changes", "posting list updates to a team's Slack channel",
     "teams with a shared list", "come back on more days", "continued_value",
     "Viral invite loop", "Sharing & export", "Collaboration", "neutral", "positive", "decided",
     "lost", "abandon", -0.04, None, "Notifications lowered Continued value by about 4%: "
     "people read updates in Slack instead of returning."),
    ("Onboarding e-mail with a personal search plan", "a day-two e-mail with three suggested "
     "searches for the user's role", "new sign-ups", "reach First value", "first_value",
     "Paid acquisition loop", "Onboarding", "Activation", "neutral", "positive", "archived",
     "stopped_early", "iterate", 0.0, None, "Stopped early after a bug sent the e-mail to "
     "control users too; relaunch with a holdout."),
    ("Export history panel", "a panel listing past exports", "users who exported once",
     "export again", "value_realization", "Viral invite loop", "Sharing & export",
     "Activation", "neutral", "positive", "running", None, None, 0.05, (0, 1), ""),
    ("Seat-based upgrade banner", "a banner when a team adds its fifth member",
     "growing teams", "upgrade", "value_growth", "Sales-assist loop", "Billing", "Expansion",
     "neutral", "neutral", "running", None, None, 0.0, (1, 2), ""),
    ("Reviews prompt after tenth export", "asking for a review after the tenth export",
     "teams in Continued value", "post a review", "value_growth", "Content & SEO loop",
     "Sharing & export", "Expansion", "positive", "neutral", "analysing", None, None, 0.07,
     None, ""),
    ("Guided first search", "an interactive first search with a sample question",
     "new sign-ups", "finish a first search", "interest", "Paid acquisition loop",
     "Onboarding", "Activation", "neutral", "positive", "running", None, None, 0.03, (0, 2), ""),
    ("Invite reminder after three days", "a reminder to invite colleagues on day three",
     "users who created a list", "invite a colleague", "value_growth", "Viral invite loop",
     "Sharing & export", "Collaboration", "positive", "neutral", "analysing", None, None, 0.06,
     (1, 0), ""),
    ("Side-by-side result compare", "comparing two results side by side", "evaluating users",
     "save more results", "first_value", "Content & SEO loop", "Search", "Activation",
     "neutral", "positive", "archived", "stopped_early", "abandon", 0.0, None, "Stopped: the "
     "build took three times the estimate; parked until search speed work lands."),
    ("Smart list names", "suggesting list names from the saved results", "users creating a list",
     "create more lists", "value_realization", "Content & SEO loop", "Lists", "Activation",
     "neutral", "positive", "backlog", None, None, 0.0, (0, 1), ""),
    ("Export to Notion", "exporting lists straight into Notion", "users who reached First value",
     "export twice in a month", "value_realization", "Viral invite loop", "Sharing & export",
     "Activation", "neutral", "positive", "backlog", None, None, 0.0, (0, 1), ""),
    ("Shared list previews in e-mail", "rich previews when a list link is e-mailed",
     "people receiving a list", "sign up", "interest", "Viral invite loop", "Sharing & export",
     "Collaboration", "positive", "neutral", "backlog", None, None, 0.0, (1, 0), ""),
    ("Team usage report for admins", "a monthly usage report to team admins", "team admins",
     "add seats", "value_growth", "Sales-assist loop", "Billing", "Expansion", "neutral",
     "positive", "backlog", None, None, 0.0, (1, 2), ""),
    ("Keyboard shortcuts for saving", "keyboard shortcuts to save and tag results",
     "power users", "save more results per session", "continued_value",
     "Content & SEO loop", "Search", "Collaboration", "neutral", "positive", "backlog", None,
     None, 0.0, None, ""),
    ("Onboarding by job to be done", "asking the job on sign-up and tailoring the first screen",
     "new sign-ups", "reach First value", "first_value", "Paid acquisition loop", "Onboarding",
     "Activation", "neutral", "positive", "backlog", None, None, 0.0, (0, 0), ""),
    ("Public template library", "a public library of search templates", "visitors from search "
     "engines", "sign up and search", "interest", "Content & SEO loop", "Search",
     "Collaboration", "positive", "neutral", "backlog", None, None, 0.0, None, ""),
    ("Pricing page calculator", "a seat calculator on the pricing page",
     "teams considering an upgrade", "upgrade", "value_growth", "Sales-assist loop", "Billing",
     "Expansion", "neutral", "neutral", "backlog", None, None, 0.0, (1, 2), ""),
    ("AI summary of a list", "a one-paragraph summary of a saved list", "users with a list of "
     "ten or more results", "export the list", "value_realization", "Content & SEO loop",
     "Lists", "Activation", "neutral", "positive", "idea", None, None, 0.0, None, ""),
    ("Browser extension to save from any page", "a browser extension that saves pages to a "
     "list", "researchers", "come back on more days", "continued_value", "Viral invite loop",
     "Lists", "Collaboration", "neutral", "positive", "idea", None, None, 0.0, None, ""),
    ("Win-back e-mail for lapsed teams", "an e-mail showing what changed in a lapsed team's "
     "lists", "teams inactive for 30 days", "return", "continued_value",
     "Content & SEO loop", "Lists", "Collaboration", "neutral", "positive", "idea", None, None,
     0.0, None, ""),
    ("Trial of team plan on invite", "a 14-day team-plan trial when a third member joins",
     "growing teams", "upgrade", "value_growth", "Sales-assist loop", "Billing", "Expansion",
     "neutral", "neutral", "idea", None, None, 0.0, None, ""),
    ("Saved search alerts", "alerts when new results match a saved search", "users with a "
     "saved search", "return weekly", "continued_value", "Content & SEO loop", "Search",
     "Collaboration", "neutral", "positive", "idea", None, None, 0.0, None, ""),
]

# Learnings not tied to one experiment: research, cohorts, interviews. (title, body, tags, status)
GENERAL_LEARNINGS = [
    ("Exporting is where evaluating teams stall",
     "Across the last 12 weekly cohorts about two in five sign-ups reach First value, but only "
     "about a third of those go on to export twice in their first month. In interviews, "
     "people who stalled said they did not know lists could leave Scout. This is our largest "
     "success gap, so it is where the Activation squad focuses this quarter.",
     ["value_realization", "sharing & export", "research"], "confirmed"),
    ("Teams that export in week one retain far better",
     "Users with two exports in their first seven days were active on day 30 about eight times "
     "as often as users with none (41% against 5%, cohort analysis of sign-ups whose day 30 "
     "has passed). This is a "
     "correlation: exporters are also more engaged in every other way, so it does not prove "
     "that pushing exports causes retention. The export experiments test that.",
     ["retention", "value_realization", "cohorts"], "supported"),
    ("The job most teams hire Scout for is competitor monitoring",
     "Coding 41 interviews into struggle, motivation and desired outcome, the most frequent job "
     "was: when a competitor moves, help me see it quickly, so I can brief my team before the "
     "meeting. Market sizing and hiring research came second and third.",
     ["research", "jobs to be done", "interest"], "supported"),
    ("Invited colleagues activate faster than cold sign-ups",
     "Sign-ups who arrived through an invite reached First value about twice as often as cold "
     "sign-ups in the same weeks. The invite context (a shared list) gives them a first task. "
     "We have not yet separated the effect of the inviter's coaching.",
     ["viral invite loop", "first_value", "cohorts"], "supported"),
    ("Modal tours interrupt, they do not teach",
     "Two experiments with modal tours (exports, filters) lowered the KPI they meant to raise. "
     "Inline hints at the moment of need did better in both follow-ups. We treat modal tours "
     "as a last resort.",
     ["onboarding", "pattern"], "confirmed"),
    ("NPS did not predict expansion in our data",
     "Teams' NPS responses were not associated with upgrades in the following quarter once "
     "usage was accounted for. Weekly searches and exports predicted upgrades much better. "
     "We stopped using NPS as a key result.",
     ["value_growth", "metrics", "research"], "supported"),
    ("Our PQL line: 60 searches and an invite in 30 days",
     "Teams that crossed 60 searches and sent at least one invite in their first 30 days "
     "upgraded at about five times the base rate over the next quarter. Sales now contacts only "
     "these teams. The threshold was chosen on Q2 data and should be re-checked on Q3.",
     ["pql", "sales-assist loop", "value_growth"], "emerging"),
    ("Mobile searchers rarely build lists",
     "About 30% of first searches happen on mobile, but fewer than one in ten lists are created "
     "there. Mobile may be an Interest channel more than an Evaluation one; we have not tested "
     "a mobile list flow yet.",
     ["interest", "first_value", "search"], "emerging"),
    ("Referral credits replace purchases rather than adding them",
     "Both referral-credit experiments lowered paid upgrades among referrers. Credits went "
     "mostly to teams that would have paid anyway. Referral incentives that are not money "
     "(extra seats on shared lists) are untested.",
     ["value_growth", "billing", "viral invite loop"], "supported"),
    ("Public lists bring visitors who search but do not stay",
     "Early numbers from the public list pages show many new visitors and a high Interest rate "
     "but low First value: they came for one answer. This is a first reading from a running "
     "experiment, not a result.",
     ["content & seo loop", "interest"], "emerging"),
    ("Checklists get completed without changing behaviour",
     "Checklist completion rates were high in both onboarding checklist tests, yet First value "
     "did not move. Completing a checklist is an output; reaching the milestone is the outcome.",
     ["onboarding", "first_value", "pattern"], "supported"),
]

# Objectives and key results: (title, why, squad, [(statement, metric, kind, direction, unit,
#   baseline, target, stretch, weekly check-in values, confidences)]). Check-in values of None
#   are read from the demo's events as of each check-in date, as "check in from data" would.
OBJECTIVES = [
    ("New teams get to value in their first month",
     "Most teams that search never export a list; they leave before Scout is part of their work.",
     "Activation",
     [("Raise First value (5+ searches and a list in 14 days) from 36% to 41% of new sign-ups",
       "first_value", "value_creation", "increase", "%", 36.0, 41.0, 43.0,
       None, [6, 6, 7, 7, 7, 8, 8, 8]),
      ("Raise Value realization from 12% to 15% of new sign-ups", "value_realization",
       "value_creation", "increase", "%", 12.0, 15.0, None,
       None, [7, 6, 6, 5, 5, 4, 4, 3]),
      ("Launch the guided onboarding checklist to all new teams", "onboarding_checklist_rollout",
       "value_creation", "increase", "%", 0.0, 100.0, None,
       [5, 10, 20, 30, 40, 50, 55, 60], [8, 8, 7, 7, 7, 6, 6, 6])]),
    ("Teams that get value bring their colleagues",
     "Invited colleagues activate twice as often as cold sign-ups: the invite loop is our "
     "cheapest acquisition.",
     "Collaboration",
     [("Raise weekly invites sent per active team from 0.8 to 1.4", "invites_per_active_team",
       "value_creation", "increase", "invites", 0.8, 1.4, 1.6,
       [0.80, 0.83, 0.86, 0.90, 0.93, 0.97, 1.01, 1.05], [5, 5, 6, 6, 6, 6, 5, 5]),
      ("Cut median days to a team's first shared list from 6 to 3", "days_to_first_shared_list",
       "value_creation", "decrease", "days", 6.0, 3.0, 2.0,
       [6.0, 5.8, 5.5, 5.2, 4.9, 4.6, 4.4, 4.2], [6, 6, 7, 7, 7, 8, 8, 8]),
      ("Grow expansion MRR from $42k to $60k", "expansion_mrr", "value_capture", "increase",
       "$k", 42.0, 60.0, None, [42.0, 42.5, 43.1, 43.6, 44.2, 45.0], [5, 5, 4, 4, 3, 3])]),
]

PEOPLE = ["Maya Chen", "Tom Okafor", "Lena Fischer", "Ravi Patel", "Ana Souza", "Jonas Berg"]

# Customer research: twelve recent interviews with teams, coded into struggle, motivation and
# desired-outcome themes. They tell the events' story from the customer's side: teams get to
# First value, then stall before exporting (Value realization).
THEMES = {
    "gap": ("struggle", "have a good list but can't get it into our documents"),
    "blank": ("struggle", "start a project from a blank search page"),
    "lost": ("struggle", "can't see what colleagues already found"),
    "export": ("motivation", "get a list into the doc I'm writing in one step"),
    "templates": ("motivation", "start from searches that worked before"),
    "shared": ("motivation", "see my team's lists in one place"),
    "brief": ("outcome", "brief my team before the meeting"),
    "reuse": ("outcome", "reuse research instead of redoing it"),
    "onboard": ("outcome", "bring new colleagues up to speed quickly"),
}

# (participant, segment, days before the anchor, context, [(theme, quote, milestone, lens)],
#  words said but not coded)
INTERVIEWS = [
    ("Priya, research lead", "In-house research", 40,
     "Uses Scout daily for competitor scans; team of six.",
     [("gap", "I had forty great results in a list and then spent an afternoon copying them "
       "into our brief", "value_realization", "feeling"),
      ("export", "If the list just landed in the Google Doc I would never leave Scout",
       "value_realization", "thinking"),
      ("brief", "The whole point is walking into Monday's meeting with the brief done", None,
       None)], ""),
    ("Marco, agency strategist", "Agency", 38,
     "Runs market scans for three clients at once.",
     [("gap", "Saving is easy. Getting the list out into the client deck is the painful part",
       "value_realization", "doing"),
      ("export", "I want one button that puts the list where I am already writing",
       "value_realization", "thinking"),
      ("brief", "My clients expect a briefing the morning after a competitor launches", None,
       None)], "He has not tried the CSV export; he did not know it existed."),
    ("Hana, consultant", "Consultant", 36,
     "Solo consultant, evaluating Scout against spreadsheets.",
     [("gap", "I never worked out how to get my lists out, so I went back to my spreadsheet",
       "value_realization", "doing"),
      ("export", "Export into my report template, that is all I need", "value_realization",
       "thinking"),
      ("templates", "Show me the searches other consultants run for a market scan",
       "first_value", "thinking"),
      ("brief", "I brief clients every Friday and the research has to be in by Thursday",
       None, None)], ""),
    ("Owen, product marketer", "In-house research", 33,
     "Joined two weeks ago; still finding his way.",
     [("blank", "The empty search box stared at me. I did not know what a good first search "
       "was", "interest", "feeling"),
      ("templates", "A few example searches for launches would have saved me a morning",
       "first_value", "doing"),
      ("reuse", "I do not want to rebuild the launch tracker every quarter", None, None)], ""),
    ("Sofia, insights manager", "In-house research", 30,
     "Team lead; her team shares lists weekly.",
     [("gap", "We build good lists and then retype the best bits into Confluence",
       "value_realization", "doing"),
      ("export", "Send the list straight into the page we already write in",
       "value_realization", "thinking"),
      ("brief", "On Monday the leadership team wants the competitor brief before nine", None,
       None),
      ("reuse", "Last quarter's research should be the starting point, not a blank page",
       "continued_value", "thinking")], ""),
    ("Daniel, agency analyst", "Agency", 27,
     "Junior analyst, inherits lists from colleagues.",
     [("gap", "The list is perfect but it lives in Scout and the client lives in PowerPoint",
       "value_realization", "feeling"),
      ("lost", "Half the time someone already researched this and I only find out after",
       "continued_value", "feeling"),
      ("shared", "Put every list the team made in one place I can browse", "continued_value",
       "doing"),
      ("reuse", "Reuse what the team already found instead of starting again", None, None)], ""),
    ("Amara, founder", "Consultant", 24,
     "Two-person consultancy, signed up last month.",
     [("blank", "I typed one search, got noise, and nearly gave up", "interest", "feeling"),
      ("templates", "Start me off with a search that works for a competitor scan",
       "first_value", "doing"),
      ("brief", "I need a competitor summary for a pitch tomorrow morning", None, None)], ""),
    ("Lukas, research ops", "In-house research", 20,
     "Manages the research tools for a team of twelve.",
     [("gap", "Exports are the step where my team gives up and copies by hand",
       "value_realization", "doing"),
      ("export", "One click from a list to the doc would change how the team works",
       "value_realization", "thinking"),
      ("brief", "Every week we brief sales on what competitors shipped", None, None),
      ("onboard", "New hires should see our best lists on day one", "continued_value",
       "thinking")], ""),
    ("Chloe, agency lead", "Agency", 16,
     "Runs a team of researchers across accounts.",
     [("blank", "Each new account starts from nothing; the search page gives no hints",
       "interest", "thinking"),
      ("templates", "Let me save a search recipe and start every account from it",
       "first_value", "doing"),
      ("lost", "I cannot see which lists my researchers already made for this client",
       "continued_value", "feeling"),
      ("shared", "One shelf with all the team's lists, by client", "continued_value", "doing"),
      ("onboard", "A new researcher should be useful in their first week", None, None)], ""),
    ("Ibrahim, strategy analyst", "In-house research", 12,
     "Uses Scout for quarterly strategy reviews.",
     [("gap", "Copying the list into the strategy doc takes longer than the research did",
       "value_realization", "feeling"),
      ("export", "I want the list to flow into the doc with its links intact",
       "value_realization", "doing"),
      ("brief", "The strategy brief goes to the board before the Thursday meeting", None, None),
      ("reuse", "Next quarter I should update the list, not redo it", "continued_value",
       "thinking")], ""),
    ("Nora, freelance researcher", "Consultant", 8,
     "Freelancer, three clients, trial ending soon.",
     [("blank", "The first day I did not know where to begin", "interest", "feeling"),
      ("lost", "I lose track of which client list I already updated", "continued_value",
       "feeling"),
      ("shared", "One place with each client's lists", "continued_value", "doing"),
      ("onboard", "When I bring in a subcontractor they need the lists at once", None, None)],
     ""),
    ("Felix, team lead", "Agency", 4,
     "Team lead; his agency added five seats this month.",
     [("shared", "Show me all my team's lists in one place, newest first", "continued_value",
       "doing"),
      ("onboard", "New starters should be productive in days, not weeks", None, None)],
     "Every time someone joins, nobody knows which lists are current."),
]

# Product-market-fit surveys: (name, weeks before the anchor, {segment: (very disappointed,
# somewhat disappointed, not disappointed, no longer use)}). The share of "very disappointed"
# rises with the export work but is still short of 40%; teams that export (in-house research)
# are past it.
SURVEYS = [
    ("PMF survey, quarter start", 8, {"In-house research": (48, 44, 22, 6),
                                      "Agency": (32, 44, 28, 6),
                                      "Consultant": (14, 26, 25, 5)}),
    ("PMF survey, this month", 1, {"In-house research": (72, 52, 28, 8),
                                   "Agency": (50, 58, 34, 8),
                                   "Consultant": (20, 34, 30, 6)}),
]
# What each answer group names as the main benefit, with weights.
BENEFITS = {
    "very disappointed": [("Exporting lists straight into our documents", 5),
                          ("Shared lists the whole team can see", 3),
                          ("Fast search across every source", 2), ("Search templates", 1)],
    "somewhat disappointed": [("Fast search across every source", 5),
                              ("Shared lists the whole team can see", 2),
                              ("Exporting lists straight into our documents", 1)],
    "not disappointed": [("Fast search across every source", 3), ("", 3)],
    "no longer use": [("", 1)],
}
# NPS and CES (1 = very hard, 7 = very easy) ranges by answer group.
SCORES = {"very disappointed": ((8, 10), (5, 7)), "somewhat disappointed": ((6, 9), (4, 6)),
          "not disappointed": ((2, 7), (3, 5)), "no longer use": ((0, 5), (1, 4))}
