-- Marks a message that carries no credit as seen. ARGV: chat, message id, now.
return see(ARGV[1], ARGV[2], tonumber(ARGV[3]))
