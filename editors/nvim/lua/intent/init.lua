-- Intent support for Neovim: filetype detection, comment string, and the language server
-- (`intent lsp`) started for every Intent buffer with vim.lsp.start (Neovim 0.8+; on older
-- versions it falls back to vim.lsp.start_client + buf_attach_client).
--
--   require("intent").setup({ cmd = { "intent", "lsp" } })
local M = {}

M.defaults = {
  -- The command that runs the language server.
  cmd = { "intent", "lsp" },
  -- A directory that marks the workspace root (else the file's own directory is the root).
  root_marker = ".git",
}

local function root_dir(file, marker)
  local dir = vim.fn.fnamemodify(file, ":p:h")
  local found = vim.fn.finddir(marker, dir .. ";")
  if found == "" then
    return dir
  end
  return vim.fn.fnamemodify(found, ":p:h:h")
end

local function start(config, bufnr)
  local server = {
    name = "intent",
    cmd = config.cmd,
    root_dir = root_dir(vim.api.nvim_buf_get_name(bufnr), config.root_marker),
  }
  if vim.lsp.start then
    vim.lsp.start(server, { bufnr = bufnr })
  else
    local id = vim.lsp.start_client(server)
    if id then
      vim.lsp.buf_attach_client(bufnr, id)
    end
  end
end

function M.setup(opts)
  local config = vim.tbl_deep_extend("force", M.defaults, opts or {})

  vim.filetype.add({ extension = { intent = "intent" } })

  local group = vim.api.nvim_create_augroup("intent", { clear = true })
  -- Also for Neovim versions whose filetype.lua is off by default.
  vim.api.nvim_create_autocmd({ "BufRead", "BufNewFile" }, {
    group = group,
    pattern = "*.intent",
    command = "setfiletype intent",
  })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = "intent",
    callback = function(args)
      local bo = vim.bo[args.buf]
      bo.commentstring = "// %s"
      bo.comments = "s1:/*,mb:*,ex:*/,:///,://"
      bo.shiftwidth = 2
      bo.expandtab = true
      start(config, args.buf)
    end,
  })
end

return M
