-- Marks a message that carries no credit as seen. ARGV: chat, message id.
return see(ARGV[1], ARGV[2])
