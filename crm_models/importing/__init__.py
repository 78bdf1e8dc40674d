"""Reading and validating import files (pure, no database writes).

`reader` turns an uploaded file into a header and rows of text; `columns`
defines, per model, the accepted header names and how a row's text becomes
clean values. The database side (matching, writing) is in
`crm_models.services.imports`.
"""
