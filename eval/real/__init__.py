"""Evaluation on real meetings (AMI ES dev, QMSum val dev), each figure beside a baseline from the same run.

Data: ``EVAL_DATA_DIR`` (default ``../shared/datasets`` beside the repository). Corpus credits:
AMI Meeting Corpus, University of Edinburgh / IDIAP / TNO et al. (CC BY 4.0); QMSum, Zhong et al.,
NAACL 2021 (MIT).
"""
