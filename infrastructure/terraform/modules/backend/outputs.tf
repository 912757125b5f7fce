# Lambda function name
output "function_name" { value = aws_lambda_function.api.function_name }
# Lambda function ARN (unqualified)
output "function_arn" { value = aws_lambda_function.api.arn }
# The function's log group (/aws/lambda/<function>)
output "log_group_name" { value = aws_cloudwatch_log_group.api.name }
# ECR repository URL of the image
output "ecr_repository_url" { value = aws_ecr_repository.api.repository_url }
# Image the function runs (<repository>:<tag>)
output "image_uri" { value = aws_lambda_function.api.image_uri }
# Security group of the function (the Redis group admits it)
output "security_group_id" { value = aws_security_group.lambda.id }
