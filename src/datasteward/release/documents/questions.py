# ruff: noqa: E501  (the questions are quoted verbatim from the paper)
"""The questions of "Datasheets for Datasets" (Gebru et al., arXiv:1803.09010v7, 2021).

Every question of the paper's seven sections, in the paper's order, with the key under which
stewards answer it in ``datasheet.toml`` (``[section] key = "..."``). ``required`` questions
must be answered (by the stewards or by measurement) before a non-draft release goes out.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    section: str
    key: str
    text: str
    required: bool = False


SECTIONS: dict[str, str] = {
    "motivation": "Motivation",
    "composition": "Composition",
    "collection": "Collection process",
    "preprocessing": "Preprocessing / cleaning / labeling",
    "uses": "Uses",
    "distribution": "Distribution",
    "maintenance": "Maintenance",
}

_Q = Question
QUESTIONS: tuple[Question, ...] = (
    _Q(
        "motivation",
        "purpose",
        "For what purpose was the dataset created? Was there a specific task in mind? Was there a specific gap that needed to be filled?",
        True,
    ),
    _Q(
        "motivation",
        "creators",
        "Who created the dataset (e.g., which team, research group) and on behalf of which entity (e.g., company, institution, organization)?",
        True,
    ),
    _Q(
        "motivation",
        "funding",
        "Who funded the creation of the dataset? If there is an associated grant, please provide the name of the grantor and the grant name and number.",
    ),
    _Q("motivation", "comments", "Any other comments?"),
    _Q(
        "composition",
        "instances",
        "What do the instances that comprise the dataset represent (e.g., documents, photos, people, countries)?",
        True,
    ),
    _Q(
        "composition",
        "count",
        "How many instances are there in total (of each type, if appropriate)?",
        True,
    ),
    _Q(
        "composition",
        "sampling",
        "Does the dataset contain all possible instances or is it a sample (not necessarily random) of instances from a larger set? If a sample, what is the larger set, and is the sample representative of it?",
        True,
    ),
    _Q(
        "composition",
        "instance_data",
        "What data does each instance consist of? \u201cRaw\u201d data (e.g., unprocessed text or images) or features?",
    ),
    _Q("composition", "labels", "Is there a label or target associated with each instance?"),
    _Q(
        "composition",
        "missing",
        "Is any information missing from individual instances? If so, please provide a description, explaining why this information is missing.",
    ),
    _Q(
        "composition",
        "relationships",
        "Are relationships between individual instances made explicit (e.g., users' movie ratings, social network links)?",
    ),
    _Q(
        "composition",
        "splits",
        "Are there recommended data splits (e.g., training, development/validation, testing)?",
    ),
    _Q(
        "composition",
        "noise",
        "Are there any errors, sources of noise, or redundancies in the dataset?",
    ),
    _Q(
        "composition",
        "external",
        "Is the dataset self-contained, or does it link to or otherwise rely on external resources (e.g., websites, tweets, other datasets)?",
    ),
    _Q(
        "composition",
        "confidential",
        "Does the dataset contain data that might be considered confidential (e.g., data that is protected by legal privilege or by doctor-patient confidentiality, data that includes the content of individuals' non-public communications)?",
        True,
    ),
    _Q(
        "composition",
        "offensive",
        "Does the dataset contain data that, if viewed directly, might be offensive, insulting, threatening, or might otherwise cause anxiety?",
    ),
    _Q("composition", "people", "Does the dataset relate to people?", True),
    _Q(
        "composition",
        "subpopulations",
        "Does the dataset identify any subpopulations (e.g., by age, gender)?",
    ),
    _Q(
        "composition",
        "identification",
        "Is it possible to identify individuals (i.e., one or more natural persons), either directly or indirectly (i.e., in combination with other data) from the dataset?",
    ),
    _Q(
        "composition",
        "sensitive",
        "Does the dataset contain data that might be considered sensitive in any way (e.g., data that reveals race or ethnic origins, sexual orientations, religious beliefs, political opinions or union memberships, or locations; financial or health data; biometric or genetic data; forms of government identification)?",
    ),
    _Q("composition", "comments", "Any other comments?"),
    _Q(
        "collection",
        "how",
        "How was the data associated with each instance acquired? Was the data directly observable, reported by subjects, or indirectly inferred/derived from other data?",
        True,
    ),
    _Q(
        "collection",
        "mechanisms",
        "What mechanisms or procedures were used to collect the data (e.g., hardware apparatuses or sensors, manual human curation, software programs, software APIs)? How were these mechanisms or procedures validated?",
    ),
    _Q(
        "collection",
        "sampling_strategy",
        "If the dataset is a sample from a larger set, what was the sampling strategy (e.g., deterministic, probabilistic with specific sampling probabilities)?",
    ),
    _Q(
        "collection",
        "who",
        "Who was involved in the data collection process (e.g., students, crowdworkers, contractors) and how were they compensated?",
    ),
    _Q(
        "collection",
        "timeframe",
        "Over what timeframe was the data collected? Does this timeframe match the creation timeframe of the data associated with the instances?",
    ),
    _Q(
        "collection",
        "ethics_review",
        "Were any ethical review processes conducted (e.g., by an institutional review board)?",
    ),
    _Q(
        "collection",
        "direct",
        "Did you collect the data from the individuals in question directly, or obtain it via third parties or other sources (e.g., websites)?",
    ),
    _Q(
        "collection",
        "notice_and_consent",
        "Were the individuals in question notified about the data collection? Did they consent to the collection and use of their data?",
        True,
    ),
    _Q(
        "collection",
        "revoke",
        "If consent was obtained, were the consenting individuals provided with a mechanism to revoke their consent in the future or for certain uses?",
    ),
    _Q(
        "collection",
        "impact_analysis",
        "Has an analysis of the potential impact of the dataset and its use on data subjects (e.g., a data protection impact analysis) been conducted?",
    ),
    _Q("collection", "comments", "Any other comments?"),
    _Q(
        "preprocessing",
        "done",
        "Was any preprocessing/cleaning/labeling of the data done (e.g., discretization or bucketing, tokenization, part-of-speech tagging, SIFT feature extraction, removal of instances, processing of missing values)?",
        True,
    ),
    _Q(
        "preprocessing",
        "raw_saved",
        "Was the \u201craw\u201d data saved in addition to the preprocessed/cleaned/labeled data (e.g., to support unanticipated future uses)?",
    ),
    _Q(
        "preprocessing",
        "software",
        "Is the software that was used to preprocess/clean/label the data available?",
    ),
    _Q("preprocessing", "comments", "Any other comments?"),
    _Q("uses", "used_already", "Has the dataset been used for any tasks already?"),
    _Q(
        "uses",
        "repository",
        "Is there a repository that links to any or all papers or systems that use the dataset?",
    ),
    _Q("uses", "intended", "What (other) tasks could the dataset be used for?", True),
    _Q(
        "uses",
        "risks",
        "Is there anything about the composition of the dataset or the way it was collected and preprocessed/cleaned/labeled that might impact future uses? Is there anything a dataset consumer could do to mitigate these risks or harms?",
        True,
    ),
    _Q("uses", "not_for", "Are there tasks for which the dataset should not be used?", True),
    _Q("uses", "comments", "Any other comments?"),
    _Q(
        "distribution",
        "who",
        "Will the dataset be distributed to third parties outside of the entity on behalf of which the dataset was created?",
    ),
    _Q(
        "distribution",
        "how",
        "How will the dataset be distributed (e.g., tarball on website, API, GitHub)? Does the dataset have a digital object identifier (DOI)?",
    ),
    _Q("distribution", "when", "When will the dataset be distributed?"),
    _Q(
        "distribution",
        "license",
        "Will the dataset be distributed under a copyright or other intellectual property (IP) license, and/or under applicable terms of use (ToU)?",
        True,
    ),
    _Q(
        "distribution",
        "third_party_ip",
        "Have any third parties imposed IP-based or other restrictions on the data associated with the instances?",
    ),
    _Q(
        "distribution",
        "export_controls",
        "Do any export controls or other regulatory restrictions apply to the dataset or to individual instances?",
    ),
    _Q("distribution", "comments", "Any other comments?"),
    _Q(
        "maintenance", "maintainer", "Who will be supporting/hosting/maintaining the dataset?", True
    ),
    _Q(
        "maintenance",
        "contact",
        "How can the owner/curator/manager of the dataset be contacted (e.g., email address)?",
        True,
    ),
    _Q("maintenance", "erratum", "Is there an erratum?"),
    _Q(
        "maintenance",
        "updates",
        "Will the dataset be updated (e.g., to correct labeling errors, add new instances, delete instances)? If so, please describe how often, by whom, and how updates will be communicated to dataset consumers?",
    ),
    _Q(
        "maintenance",
        "retention",
        "If the dataset relates to people, are there applicable limits on the retention of the data associated with the instances (e.g., were the individuals in question told that their data would be retained for a fixed period of time and then deleted)?",
    ),
    _Q(
        "maintenance",
        "older_versions",
        "Will older versions of the dataset continue to be supported/hosted/maintained? If so, please describe how. If not, please describe how its obsolescence will be communicated to dataset consumers.",
    ),
    _Q(
        "maintenance",
        "contribute",
        "If others want to extend/augment/build on/contribute to the dataset, is there a mechanism for them to do so?",
    ),
    _Q(
        "maintenance",
        "takedown",
        "How can someone ask for their data to be removed? (datasteward addition, following the paper's retention question)",
        True,
    ),
    _Q("maintenance", "comments", "Any other comments?"),
)
