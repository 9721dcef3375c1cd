-- Files ending in .intent are Intent sources.
vim.filetype.add({ extension = { intent = "intent" } })
