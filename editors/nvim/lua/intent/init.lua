-- Intent support for Neovim (0.8+): filetype detection, comment string, and the language
-- server (`intent lsp`) started for every Intent buffer with vim.lsp.start.
--
--   require("intent").setup({ cmd = { "intent", "lsp" } })
local M = {}

M.defaults = {
  -- The command that runs the language server.
  cmd = { "intent", "lsp" },
  -- Files whose directory is taken as the workspace root (else the file's own directory).
  root_markers = { ".git", "Cargo.toml" },
}

function M.setup(opts)
  local config = vim.tbl_deep_extend("force", M.defaults, opts or {})

  vim.filetype.add({ extension = { intent = "intent" } })

  local group = vim.api.nvim_create_augroup("intent", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = "intent",
    callback = function(args)
      vim.bo[args.buf].commentstring = "// %s"
      vim.bo[args.buf].comments = "s1:/*,mb:*,ex:*/,:///,://"
      vim.bo[args.buf].shiftwidth = 2
      vim.bo[args.buf].expandtab = true
      local file = vim.api.nvim_buf_get_name(args.buf)
      local marker = vim.fs.find(config.root_markers, { upward = true, path = vim.fs.dirname(file) })[1]
      vim.lsp.start({
        name = "intent",
        cmd = config.cmd,
        root_dir = marker and vim.fs.dirname(marker) or vim.fs.dirname(file),
      }, { bufnr = args.buf })
    end,
  })
end

return M
