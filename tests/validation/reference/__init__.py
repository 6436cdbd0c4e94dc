"""The validation code as it was before issue 18's cost work (commit 7134ba6), frozen for
`tests/validation/test_shared_evaluation.py`: the new code must give exactly what this gave.

Verbatim copies of pipelines/validation/{gx_runner,quality,results,rules,outliers,frame,store}.py; only
the imports between them point here. Do not edit (other than to follow a renamed import).
"""
